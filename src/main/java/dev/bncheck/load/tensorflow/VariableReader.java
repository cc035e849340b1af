package dev.bncheck.load.tensorflow;

import java.util.Collection;
import java.util.Map;

/** Reads the current values of variables, by the top-level node that holds them. */
interface VariableReader {

  /** Values by node name; a variable that cannot be read is absent from the map. */
  Map<String, double[]> read(Collection<Origin.Variable> variables);

  /** For graphs without variables: frozen graphs hold their parameters as constants. */
  VariableReader NONE = variables -> Map.of();
}
