package dev.bncheck.load.tensorflow;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/** The ops a model may run under bncheck (resource {@code allowed-ops.txt}), and why others are refused. */
final class OpAllowlist {

  /** Ops that read or write files given as tensors; allowed only on the model's own variables. */
  static final Set<String> CHECKPOINT_OPS = Set.of("RestoreV2", "SaveV2", "MergeV2Checkpoints");

  private static final Set<String> ALLOWED = load();


  private OpAllowlist() {}

  static boolean allows(String op) {
    return ALLOWED.contains(op);
  }

  static Set<String> all() {
    return ALLOWED;
  }

  /** What a refused op would do, for the message. */
  static String why(String op) {
    String o = op.toLowerCase(Locale.ROOT);
    if (op.equals("ReadFile") || op.equals("MatchingFiles") || o.contains("reader") || o.startsWith("restore")
        || o.contains("fromtextfile")) {
      return "it reads files";
    }
    if (op.equals("WriteFile") || o.startsWith("save") || o.contains("summary") || o.contains("writer")) {
      return "it writes files";
    }
    if (o.contains("print")) {
      return "it prints (a debug op)";
    }
    if (o.contains("pyfunc")) {
      return "it calls back into Python";
    }
    if (o.contains("dataset") || o.contains("iterator")) {
      return "it reads a data source";
    }
    if (o.contains("debug")) {
      return "it is a debug op";
    }
    return "it is not one of the pure computation ops bncheck lets a model run";
  }

  private static Set<String> load() {
    Set<String> ops = new TreeSet<>();
    try (var in = OpAllowlist.class.getResourceAsStream("/dev/bncheck/allowed-ops.txt");
        var reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        line = line.strip();
        if (!line.isEmpty() && !line.startsWith("#")) {
          ops.add(line);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Set.copyOf(ops);
  }
}
