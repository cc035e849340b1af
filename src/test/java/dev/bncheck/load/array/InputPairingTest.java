package dev.bncheck.load.array;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.model.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class InputPairingTest {

  private static final InputArray A = new InputArray.Numbers(new Tensor.Float32(new int[] {1}, new float[] {1}));
  private static final InputArray B = new InputArray.Numbers(new Tensor.Float32(new int[] {1}, new float[] {2}));

  @Test
  void oneUnnamedArrayFeedsAModelOfOneInput() {
    assertThat(InputPairing.pair(List.of("x"), Function.identity(), Map.of(ModelInputs.SINGLE_INPUT, A), ""))
        .containsExactly(Map.entry("x", A));
  }

  @Test
  void arraysArePairedByNameInTheInputsOrder() {
    Map<String, InputArray> data = new LinkedHashMap<>();
    data.put("b", B);
    data.put("a", A);
    assertThat(InputPairing.pair(List.of("a", "b"), Function.identity(), data, ""))
        .containsExactly(Map.entry("a", A), Map.entry("b", B));
  }

  @Test
  void aMissingInputNamesTheInputsAndWhatWasGiven() {
    assertThatThrownBy(() -> InputPairing.pair(List.of("a", "b"), Function.identity(), Map.of("a", A),
        ", a single value as NAME=VALUE (b=1)"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage("--inputs: the model's inputs are a, b; give each as NAME=FILE (or an .npz with arrays of those"
            + " names), a single value as NAME=VALUE (b=1); got a");
    assertThatThrownBy(() -> InputPairing.pair(List.of("a", "b"), Function.identity(),
        Map.of(ModelInputs.SINGLE_INPUT, A), ""))
        .hasMessageEndingWith("; got one unnamed array");
  }

  @Test
  void anArrayNamedAfterNoInputIsRefused() {
    assertThatThrownBy(() -> InputPairing.pair(List.of("a"), Function.identity(), Map.of("a", A, "c", B), ""))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage("--inputs: c: the model has no input of this name; its inputs are a");
  }
}
