package dev.bncheck.load.array;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.dump.TensorFile;
import dev.bncheck.model.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads the data to feed a model's inputs from the files the user names: NumPy .npy and .npz
 * files, JSON TENSOR files (docs/dump-format.md), and files whose bytes are strings.
 *
 * <p>Each spec is {@code FILE} or {@code NAME=FILE}. A bare .npy or JSON file is the model's single
 * input, under the key {@link #SINGLE_INPUT}; a bare .npz gives one input per array, named after
 * the array. {@code NAME=FILE} gives that file to the named input; an .npz so given must hold
 * exactly one array. A spec that names an existing file is a bare {@code FILE} even if it contains
 * {@code =}. The kind of file is recognised by its extension and, failing that, by its first bytes.
 * A {@code FILE} written {@code @PATH} or {@code @GLOB} is not read as an array: the bytes of each
 * file are one string sample ({@link RawFiles}), for an input that takes a string such as a WAV
 * file; a spec starting with {@code @} never has a {@code NAME=}. {@code NAME=VALUE}, where VALUE is
 * {@code true}, {@code false} or a number and names no file, gives a scalar input one value for
 * every run ({@code is_training=false}, {@code keep_prob=1}).
 */
public final class ModelInputs {

  /** The key of the input given by a bare .npy or JSON file: the model's single input. */
  public static final String SINGLE_INPUT = "";

  private static final byte[] ZIP_MAGIC = {'P', 'K', 3, 4};
  private static final byte[] EMPTY_ZIP_MAGIC = {'P', 'K', 5, 6};

  private enum Kind {
    NPY,
    NPZ,
    JSON
  }

  /** @param file a path, or for raw files the pattern after {@code @} */
  private record Spec(String name, String file, boolean raw) {
    boolean named() {
      return name != null;
    }

    /** The value of a {@code NAME=VALUE} spec, or null when it gives a file. */
    Double literal() {
      if (!named() || raw || exists(file)) {
        return null;
      }
      return switch (file.toLowerCase(Locale.ROOT)) {
        case "true" -> 1.0;
        case "false" -> 0.0;
        default -> LITERAL.matcher(file).matches() ? Double.valueOf(file) : null;
      };
    }
  }

  /** A decimal number as written on a command line: no hex, no NaN, no infinity. */
  private static final java.util.regex.Pattern LITERAL =
      java.util.regex.Pattern.compile("[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?");

  private ModelInputs() {}

  /**
   * Reads every spec, numbers only.
   *
   * @return the tensors by input name, as {@link #readArrays} gives them
   * @throws InvalidInputException as {@link #readArrays} does, and for any string array or {@code @FILE}
   */
  public static Map<String, Tensor> read(List<String> specs) {
    for (String text : specs) {
      Spec spec = parse(text);
      if (spec.raw()) {
        throw new InvalidInputException(text, "", "gives files as strings, where numbers are expected");
      }
    }
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    readArrays(specs, false).forEach((name, array) -> tensors.put(name, ((InputArray.Numbers) array).tensor()));
    return Collections.unmodifiableMap(tensors);
  }

  /**
   * Reads every spec, numbers or strings.
   *
   * @return the arrays by input name, in the order given (archives in archive order);
   *     {@link #SINGLE_INPUT} for a bare .npy, JSON or {@code @} file; unmodifiable
   * @throws InvalidInputException when a file is missing or unreadable, of an unknown kind, invalid,
   *     or when two specs give the same input, a bare .npy, JSON or {@code @} file is given beside
   *     other inputs, an .npz given as {@code NAME=FILE} does not hold exactly one array, or a glob
   *     matches no file
   */
  public static Map<String, InputArray> readArrays(List<String> specs) {
    return readArrays(specs, true);
  }

  /** A single value's .npy is its header and one element: files larger than this hold more. */
  private static final long SINGLE_VALUE_NPY_BYTES = 4096;

  /**
   * The inputs given one value for every run ({@code NAME=VALUE}, or {@code NAME=FILE} of a
   * scalar .npy), by name, read without reading the other files: what decides, before anything
   * runs, which branch of a {@code tf.cond} the run takes.
   */
  public static Map<String, Double> perRunValues(List<String> specs) {
    Map<String, Double> values = new LinkedHashMap<>();
    for (String text : specs) {
      Spec spec = parse(text);
      Double literal = spec.literal();
      if (literal != null) {
        values.put(spec.name(), literal);
      } else if (spec.named() && !spec.raw() && smallNpy(spec.file())) {
        Tensor t = NpyReader.read(Path.of(spec.file()));
        if (t.shape().length == 0) {
          values.put(spec.name(), t.get(0));
        }
      }
    }
    return values;
  }

  private static boolean smallNpy(String file) {
    try {
      Path path = Path.of(file);
      return file.toLowerCase(Locale.ROOT).endsWith(".npy") && Files.isRegularFile(path)
          && Files.size(path) <= SINGLE_VALUE_NPY_BYTES;
    } catch (IOException | InvalidPathException e) {
      return false;
    }
  }

  /**
   * The files the specs read, in the order given, each glob's files sorted: what a report's data
   * hash covers and what no output may overwrite.
   *
   * @throws InvalidInputException when a glob matches no file
   */
  public static List<Path> files(List<String> specs) {
    List<Path> files = new ArrayList<>();
    for (String text : specs) {
      Spec spec = parse(text);
      if (spec.raw()) {
        files.addAll(RawFiles.list(spec.file()));
      } else if (spec.literal() == null) {
        files.add(Path.of(spec.file()));
      }
    }
    return files;
  }

  /**
   * Checks what the specs say before any file is read: each is FILE, NAME=FILE, NAME=VALUE or a
   * glob, and a single input's file (an .npy or JSON tensor given without NAME=) comes alone.
   *
   * @throws InvalidInputException naming the spec that is not well formed
   */
  public static void requireWellFormed(List<String> specs) {
    String bare = null;
    for (String text : specs) {
      Spec spec = parse(text);
      boolean single = !spec.named() && !spec.raw() && spec.literal() == null
          && (spec.file().endsWith(".npy") || spec.file().endsWith(".json"));
      if (single) {
        bare = spec.file();
      }
    }
    if (bare != null && specs.size() > 1) {
      throw notTheOnlyInput(bare);
    }
  }

  private static InvalidInputException notTheOnlyInput(String bare) {
    return new InvalidInputException(bare, "", "a file without NAME= is the model's single input, but other inputs"
        + " are given too; write NAME=" + bare);
  }

  private static Map<String, InputArray> readArrays(List<String> specs, boolean strings) {
    Map<String, InputArray> inputs = new LinkedHashMap<>();
    Map<String, String> givenBy = new LinkedHashMap<>();
    for (String text : specs) {
      Spec spec = parse(text);
      String single = spec.named() ? spec.name() : SINGLE_INPUT;
      if (spec.raw()) {
        put(inputs, givenBy, spec, single, RawFiles.read(spec.file()));
        continue;
      }
      Double literal = spec.literal();
      if (literal != null) {
        put(inputs, givenBy, spec, single,
            new InputArray.Numbers(new Tensor.Float32(new int[0], new float[] {literal.floatValue()})));
        continue;
      }
      Path path = Path.of(spec.file());
      switch (kind(path, spec.file())) {
        case NPY -> put(inputs, givenBy, spec, single,
            strings ? NpyReader.readInput(path) : new InputArray.Numbers(NpyReader.read(path)));
        case JSON -> put(inputs, givenBy, spec, single, new InputArray.Numbers(TensorFile.read(path)));
        case NPZ -> {
          if (spec.named()) {
            requireOneArray(spec, NpzReader.arrayNames(path));
            put(inputs, givenBy, spec, spec.name(), npz(path, strings).values().iterator().next());
          } else {
            Map<String, InputArray> arrays = npz(path, strings);
            if (arrays.isEmpty()) {
              throw new InvalidInputException(spec.file(), "", "holds no arrays");
            }
            arrays.forEach((name, array) -> put(inputs, givenBy, spec, name, array));
          }
        }
      }
    }
    return Collections.unmodifiableMap(inputs);
  }

  private static Map<String, InputArray> npz(Path path, boolean strings) {
    if (strings) {
      return NpzReader.readInputs(path);
    }
    return InputArray.numbers(NpzReader.read(path));
  }

  private static Spec parse(String text) {
    if (text.startsWith("@")) {
      return new Spec(null, text.substring(1), true);
    }
    int eq = text.indexOf('=');
    if (eq < 0 || exists(text)) {
      if (text.isEmpty()) {
        throw new InvalidInputException("''", "", "an input spec must be FILE or NAME=FILE");
      }
      return new Spec(null, text, false);
    }
    String name = text.substring(0, eq);
    String file = text.substring(eq + 1);
    if (name.isEmpty()) {
      throw new InvalidInputException(text, "", "no input name before '='; write NAME=FILE");
    }
    if (file.isEmpty()) {
      throw new InvalidInputException(text, "", "no file after '='; write NAME=FILE");
    }
    return file.startsWith("@") ? new Spec(name, file.substring(1), true) : new Spec(name, file, false);
  }

  private static boolean exists(String file) {
    try {
      return Files.exists(Path.of(file));
    } catch (InvalidPathException e) {
      return false;
    }
  }

  private static Kind kind(Path path, String file) {
    if (!Files.exists(path)) {
      throw new InvalidInputException(file, "", "no such file or directory");
    }
    if (Files.isDirectory(path)) {
      throw new InvalidInputException(file, "", "is a directory; expected a .npy, .npz or JSON tensor file");
    }
    if (!Files.isReadable(path)) {
      throw new InvalidInputException(file, "", "not readable");
    }
    String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".npy")) {
      return Kind.NPY;
    }
    if (name.endsWith(".npz")) {
      return Kind.NPZ;
    }
    if (TensorFile.looksLikeJson(path)) {
      return Kind.JSON;
    }
    byte[] start = new byte[NpyHeader.MAGIC.length];
    int n;
    try (InputStream in = Files.newInputStream(path)) {
      n = in.readNBytes(start, 0, start.length);
    } catch (IOException e) {
      throw new InvalidInputException(file, "", "cannot read: " + e.getMessage(), e);
    }
    if (n == start.length && Arrays.equals(start, NpyHeader.MAGIC)) {
      return Kind.NPY;
    }
    if (n >= 4) {
      byte[] four = Arrays.copyOf(start, 4);
      if (Arrays.equals(four, ZIP_MAGIC) || Arrays.equals(four, EMPTY_ZIP_MAGIC)) {
        return Kind.NPZ;
      }
    }
    throw new InvalidInputException(
        file, "", "not a .npy, .npz or JSON tensor file (neither by its extension nor by its content)");
  }

  private static void requireOneArray(Spec spec, List<String> names) {
    if (names.size() != 1) {
      String listed = names.isEmpty()
          ? "no arrays"
          : names.size() + " arrays (" + String.join(", ", names.subList(0, Math.min(5, names.size())))
              + (names.size() > 5 ? ", ..." : "") + ")";
      throw new InvalidInputException(
          spec.file(),
          "",
          "holds " + listed + ", but " + spec.name() + "=" + spec.file()
              + " needs exactly one; give the .npz without NAME= to use its arrays by their names");
    }
  }

  private static void put(
      Map<String, InputArray> inputs, Map<String, String> givenBy, Spec spec, String name, InputArray array) {
    String earlier = givenBy.putIfAbsent(name, (spec.raw() ? "@" : "") + spec.file());
    if (earlier != null) {
      String problem = name.equals(SINGLE_INPUT)
          ? "a second file without NAME= (" + earlier + " is already the single input); name each input with NAME=FILE"
          : "input '" + name + "' is given twice (also by " + earlier + ")";
      throw new InvalidInputException((spec.raw() ? "@" : "") + spec.file(), "", problem);
    }
    if (name.equals(SINGLE_INPUT) ? !inputs.isEmpty() : inputs.containsKey(SINGLE_INPUT)) {
      throw notTheOnlyInput(givenBy.get(SINGLE_INPUT));
    }
    inputs.put(name, array);
  }
}
