package dev.bncheck.load.keras;

import java.util.Map;

/** Where one layout of Keras weights keeps a BN layer's variables. */
interface WeightLayout {

  /**
   * @throws dev.bncheck.load.InvalidInputException when the weights hold no variables for the
   *     layer, or others than its config implies
   */
  Located locate(BnSpec spec);

  /**
   * @param where the layer's weights in the file, for messages and the report's origin
   * @param datasets the dataset of each weight the layer holds ({@code gamma}, {@code beta},
   *     {@code moving_mean}, {@code moving_variance}), by that name
   */
  record Located(String where, Map<String, String> datasets) {
    public Located {
      datasets = Map.copyOf(datasets);
    }
  }
}
