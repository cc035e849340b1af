"""Make the calibration inputs of the keyword-spotting fixture (fixtures/tf-frozen-dscnn), whose
graph takes a WAV file's bytes as a string (wav_data) and computes MFCC features from it (needs
tensorflow-cpu; see docs/exporters.md for the virtual environment).

    python scripts/make_kws_inputs.py

Writes, deterministically, src/test/resources/kws-inputs/:
- tone.wav, chirp.wav, noise.wav: 1 s of 16 kHz mono 16-bit PCM each (a 440 Hz tone, a chirp from
  200 Hz to 4 kHz, seeded white noise), the format the graph's DecodeWav expects;
- mfcc.npy: float32 [3, 49, 10], TensorFlow's own Mfcc:0 output of the graph on the three files in
  that (sorted) order, what --input-node Mfcc:0 feeds in their place.
"""

import io
import os
import wave

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
GRAPH = os.path.join(ROOT, "src", "test", "resources", "fixtures", "tf-frozen-dscnn", "DS_CNN_M", "DS_CNN_M.pb")
OUT = os.path.join(ROOT, "src", "test", "resources", "kws-inputs")
RATE = 16000


def clips():
    t = np.arange(RATE) / RATE
    chirp_phase = 2 * np.pi * (200 * t + (4000 - 200) / 2 * t * t)
    noise = np.random.default_rng(20261202).standard_normal(RATE) * 0.1
    return {
        "tone.wav": 0.3 * np.sin(2 * np.pi * 440 * t),
        "chirp.wav": 0.3 * np.sin(chirp_phase),
        "noise.wav": noise,
    }


def wav_bytes(samples):
    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return out.getvalue()


def main():
    os.makedirs(OUT, exist_ok=True)
    written = {}
    for name, samples in clips().items():
        data = wav_bytes(samples)
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        written[name] = data
    graph_def = tf.compat.v1.GraphDef()
    with open(GRAPH, "rb") as f:
        graph_def.ParseFromString(f.read())
    features = []
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def, name="")
        with tf.compat.v1.Session(graph=graph) as session:
            for name in sorted(written):
                mfcc = session.run("Mfcc:0", {"wav_data:0": written[name]})
                features.append(mfcc[0])
    np.save(os.path.join(OUT, "mfcc.npy"), np.stack(features).astype(np.float32))


if __name__ == "__main__":
    main()
