package dev.bncheck.samples.mistakes;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.types.TFloat32;

/** The values of a TF1 SavedModel's VariableV2 variables, restored from its checkpoint, by name. */
final class SavedModelVariables {

  private SavedModelVariables() {}

  static Map<String, float[]> read(Path savedModel) {
    Map<String, float[]> values = new TreeMap<>();
    try (SavedModelBundle bundle = SavedModelBundle.load(savedModel.toString(), "serve")) {
      List<String> names = new ArrayList<>();
      bundle.graph().operations().forEachRemaining(op -> {
        if (op.type().equals("VariableV2")) {
          names.add(op.name());
        }
      });
      Session.Runner runner = bundle.session().runner();
      names.forEach(runner::fetch);
      try (Result result = runner.run()) {
        for (int i = 0; i < names.size(); i++) {
          TFloat32 t = (TFloat32) result.get(i);
          float[] v = new float[(int) t.size()];
          t.asRawTensor().data().asFloats().read(v);
          values.put(names.get(i), v);
        }
      }
    }
    return values;
  }
}
