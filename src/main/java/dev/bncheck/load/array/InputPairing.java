package dev.bncheck.load.array;

import dev.bncheck.load.InvalidInputException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;

/** Pairs a model's inputs with the arrays given for them (--inputs), the same way for every backend. */
public final class InputPairing {

  private InputPairing() {}

  /**
   * Each input with its array, in the inputs' order: the single unnamed array for a model with one
   * input, else each by name. A missing input is refused naming the model's inputs, and so is an
   * array named after none of them (a misspelt name would otherwise leave an input with a default
   * at its default, or hide the input the user meant).
   *
   * @param nameOf an input's name as the user gives it
   * @param hint added to the message for a missing input, after how to give the inputs
   * @throws InvalidInputException naming --inputs and the array or input concerned
   */
  public static <I> Map<I, InputArray> pair(List<I> inputs, Function<I, String> nameOf, Map<String, InputArray> data,
      String hint) {
    Map<I, InputArray> paired = new LinkedHashMap<>();
    if (data.size() == 1 && data.containsKey(ModelInputs.SINGLE_INPUT) && inputs.size() == 1) {
      paired.put(inputs.get(0), data.get(ModelInputs.SINGLE_INPUT));
      return paired;
    }
    List<String> expected = inputs.stream().map(nameOf).toList();
    for (I input : inputs) {
      InputArray array = data.get(nameOf.apply(input));
      if (array == null) {
        String given = String.join(", ", new TreeSet<>(data.keySet()));
        throw new InvalidInputException("--inputs", "", "the model's inputs are " + String.join(", ", expected)
            + "; give each as NAME=FILE (or an .npz with arrays of those names)" + hint + "; got "
            + (given.isEmpty() ? "one unnamed array" : given));
      }
      paired.put(input, array);
    }
    for (String name : new TreeSet<>(data.keySet())) {
      if (!expected.contains(name)) {
        throw new InvalidInputException("--inputs", name, "the model has no input of this name; its inputs are "
            + String.join(", ", expected));
      }
    }
    return paired;
  }
}
