"""Writes the .npy/.npz/.json fixtures of dev.bncheck.load.array's tests into this directory.

Run from anywhere:  python3 src/test/resources/arrays/make_arrays.py
Needs numpy (made with numpy 2.4). Every value is fixed (no random draws), so a rerun writes the
same arrays; the tests assert the values written here.
"""

import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def save(name, array):
    np.save(path(name), array, allow_pickle=False)


def main():
    # One file per supported dtype, with the edge values of each type.
    save("uint8.npy", np.array([0, 1, 255], dtype="|u1"))
    save("int8.npy", np.array([-128, -1, 0, 127], dtype="|i1"))
    save("bool.npy", np.array([True, False, True], dtype="|b1"))
    save("int16.npy", np.array([-32768, -1, 0, 32767], dtype="<i2"))
    save("uint16.npy", np.array([0, 1, 65535], dtype="<u2"))
    save("int32.npy", np.array([-2147483648, -1, 0, 2147483647], dtype="<i4"))
    save("uint32.npy", np.array([0, 1, 4294967295], dtype="<u4"))
    save("int64.npy", np.array([-9223372036854775808, -1, 0, 16777217], dtype="<i8"))
    save("uint64.npy", np.array([0, 1, 18446744073709551615], dtype="<u8"))
    # 65504 is float16's largest value, 2**-24 its smallest subnormal.
    save("float16.npy", np.array([0, -0.0, 1, -2, 0.5, 65504, 2**-24, np.inf, -np.inf, np.nan], dtype="<f2"))
    f32 = np.array([[1.5, -2.25, 3.0], [1e-45, 3.4028235e38, np.nan]], dtype="<f4")
    save("float32.npy", f32)
    save("float32_be.npy", f32.astype(">f4"))
    f64 = np.array([0.1, -1e300, 5e-324, np.inf], dtype="<f8")
    save("float64.npy", f64)
    save("float64_be.npy", f64.astype(">f8"))

    # Header versions 2.0 and 3.0 (numpy picks 1.0 unless told or the header is too long).
    version_data = np.arange(6, dtype="<f4").reshape(2, 3) / 4
    for version in [(2, 0), (3, 0)]:
        with open(path("version%d.npy" % version[0]), "wb") as f:
            np.lib.format.write_array(f, version_data, version=version, allow_pickle=False)

    # Fortran order: the values 0..23 at row-major positions, stored column-major.
    save("fortran_float32.npy", np.asfortranarray(np.arange(24, dtype="<f4").reshape(2, 3, 4)))
    save("fortran_float64.npy", np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3)))

    save("scalar.npy", np.array(3.5, dtype="<f4"))
    save("empty.npy", np.zeros((0, 3), dtype="<f4"))

    # Refused dtypes.
    save("complex64.npy", np.array([1 + 2j], dtype="<c8"))
    np.save(path("object.npy"), np.array([1, "a", None], dtype=object), allow_pickle=True)
    save("structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))
    save("unicode.npy", np.array(["ab", "c"]))

    # Strings, fed to string inputs. numpy pads each element with NULs to the longest and drops
    # trailing NULs on reading; a NUL inside an element stays.
    save("bytes.npy", np.array([b"RIFF", b"a\x00b", b""], dtype="|S4"))
    save("unicode_be.npy", np.array([["\u00e9t\u00e9", "\U0001f600"], ["", "x"]], dtype=">U3"))
    save("fortran_bytes.npy", np.asfortranarray(np.array([[b"a", b"bb", b"c"], [b"d", b"e", b"ff"]], dtype="|S2")))
    np.savez(path("strings.npz"), wav_data=np.array([b"abc", b"de"]), gain=np.array([0.5, 2.0], dtype="<f4"))

    # Archives: stored and deflated, two arrays in a known order; and one of a single array.
    # images[i] = (37 * i) % 256 in row-major order, easy to recompute in a test.
    images = (np.arange(96) * 37 % 256).astype(np.uint8).reshape(2, 4, 4, 3)
    labels = np.array([0.25, -1.5], dtype="<f8")
    np.savez(path("stored.npz"), images=images, labels=labels)
    np.savez_compressed(path("compressed.npz"), images=images, labels=labels, zeros=np.zeros((64, 64), "<f4"))
    np.savez(path("single.npz"), x=np.array([[1, 2], [3, 4]], dtype="<f4"))

    with open(path("tensor.json"), "w") as f:
        json.dump({"dtype": "float32", "shape": [2, 2], "data": [[1, 2], [3, 4.5]]}, f)


if __name__ == "__main__":
    main()
