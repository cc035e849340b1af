package dev.bncheck.load.keras;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.JavaHeap;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.MomentumConvention;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Reads the BN layers of a Keras model file: a Keras 3 archive ({@code .keras}) or a legacy HDF5
 * file ({@code .h5}), told apart by their first bytes. The config gives each layer's axis,
 * epsilon, momentum, center, scale and trainable flag; the weights its gamma, beta and moving
 * statistics.
 */
final class KerasFile {

  private static final byte[] ZIP = {'P', 'K', 3, 4};
  private static final byte[] HDF5 = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

  private KerasFile() {}

  static BnModel read(Path input, LoadOptions options) {
    String file = input.toString();
    byte[] start = start(input);
    if (Arrays.equals(start, 0, ZIP.length, ZIP, 0, ZIP.length)) {
      return archive(input, options);
    }
    if (Arrays.equals(start, 0, HDF5.length, HDF5, 0, HDF5.length)) {
      return legacy(input, options);
    }
    throw new InvalidInputException(file, "", "neither a Keras 3 archive (a ZIP file) nor an HDF5 file");
  }

  private static BnModel archive(Path input, LoadOptions options) {
    String file = input.toString();
    KerasArchive archive = KerasArchive.read(input);
    KerasConfig config = KerasConfig.parse(file, KerasArchive.CONFIG, archive.config());
    String version = archive.metadata() == null ? null : KerasMetadataVersion.of(archive.metadata());
    try (Hdf5File h5 = Hdf5File.open(file, KerasArchive.WEIGHTS, archive.weights())) {
      if (!config.listsLayers()) {
        WeightsOnlyFile.Found found = WeightsOnlyFile.layers(h5, options);
        return new BnModel(file, "Keras archive (.keras" + (version == null ? "" : ", Keras " + version)
            + "); a subclassed model (" + config.subclassedModel() + "), whose config lists no layers: BN layers found"
            + " by their variables, " + found.assumption(), "keras", config.modelName(), found.layers());
      }
      List<BnLayer> layers = layers(config, new ArchiveWeights(h5), h5);
      return new BnModel(file, "Keras archive (.keras" + (version == null ? "" : ", Keras " + version) + ")",
          "keras", config.modelName(), layers);
    }
  }

  private static BnModel legacy(Path input, LoadOptions options) {
    String file = input.toString();
    try (Hdf5File h5 = Hdf5File.open(file, "", bytes(input))) {
      Optional<String> modelConfig = h5.stringAttribute("/", "model_config");
      if (modelConfig.isEmpty() && WeightsOnlyFile.looksLikeOne(h5)) {
        String version = h5.stringAttribute("/", "keras_version").orElse(null);
        WeightsOnlyFile.Found found = WeightsOnlyFile.layers(h5, options);
        return new BnModel(file, "Keras weights file (save_weights" + (version == null ? "" : ", Keras " + version)
            + "); a weights-only file: " + found.assumption(), "keras", null, found.layers());
      }
      String json = modelConfig.orElseThrow(() -> new InvalidInputException(file, "attribute model_config",
          h5.isGroup(LegacyWeights.ROOT)
              ? "missing: the file holds model_weights but no model config"
              : "missing: an HDF5 file, but not a Keras model (no model_config, no Keras weights)"));
      if (json.length() > KerasLimits.MAX_CONFIG_BYTES) {
        throw new InvalidInputException(file, "attribute model_config", "longer than "
            + KerasLimits.MAX_CONFIG_BYTES + " characters");
      }
      KerasConfig config = KerasConfig.parse(file, "attribute model_config", json.getBytes(StandardCharsets.UTF_8));
      String version = h5.stringAttribute("/", "keras_version").orElse(null);
      if (!config.layers().isEmpty() && !h5.isGroup(LegacyWeights.ROOT)) {
        throw new InvalidInputException(file, LegacyWeights.ROOT, "missing: the file holds a model config but no"
            + " weights");
      }
      List<BnLayer> layers = layers(config, new LegacyWeights(h5), h5);
      return new BnModel(file, "Keras HDF5 file (.h5" + (version == null ? "" : ", Keras " + version) + ")",
          "keras", config.modelName(), layers);
    }
  }

  private static List<BnLayer> layers(KerasConfig config, WeightLayout layout, Hdf5File h5) {
    List<BnLayer> layers = new ArrayList<>();
    for (BnSpec spec : config.layers()) {
      WeightLayout.Located located = layout.locate(spec);
      Map<String, String> datasets = located.datasets();
      String owner = "BN layer \"" + spec.qualifiedName() + "\"";
      double[] mean = h5.vector(datasets.get("moving_mean"), "moving_mean of " + owner);
      double[] variance = h5.vector(datasets.get("moving_variance"), "moving_variance of " + owner);
      double[] gamma = spec.scale() ? h5.vector(datasets.get("gamma"), "gamma of " + owner) : filled(mean.length, 1);
      double[] beta = spec.center() ? h5.vector(datasets.get("beta"), "beta of " + owner) : filled(mean.length, 0);
      for (var vector : List.of(Map.entry("moving_variance", variance), Map.entry("gamma", gamma),
          Map.entry("beta", beta))) {
        if (vector.getValue().length != mean.length) {
          throw new InvalidInputException(h5.file(), datasets.get(vector.getKey()), vector.getValue().length
              + " values, moving_mean has " + mean.length + " (BN layer \"" + spec.qualifiedName() + "\")");
        }
      }
      String origin = located.where() + (spec.trainable() ? "" : "; frozen (trainable: false), as when"
          + " fine-tuning: training leaves its moving statistics as they were");
      layers.add(BnLayer.builder(spec.qualifiedName(), origin).channelAxis(spec.channelAxis()).epsilon(spec.epsilon())
          .momentum(OptionalDouble.of(spec.momentum()), MomentumConvention.KERAS)
          .gamma(spec.scale() ? gamma : null).beta(spec.center() ? beta : null).statistics(mean, variance).build());
    }
    return layers;
  }

  private static double[] filled(int n, double value) {
    double[] out = new double[n];
    Arrays.fill(out, value);
    return out;
  }

  private static byte[] start(Path input) {
    try (InputStream in = Files.newInputStream(input)) {
      return Arrays.copyOf(in.readNBytes(HDF5.length), HDF5.length);
    } catch (IOException e) {
      throw new InvalidInputException(input.toString(), "", "cannot read: " + e.getMessage(), e);
    }
  }

  private static byte[] bytes(Path input) {
    try {
      long size = Files.size(input);
      if (size > KerasLimits.MAX_WEIGHTS_BYTES) {
        throw new InvalidInputException(input.toString(), "", "larger than " + KerasLimits.MAX_WEIGHTS_BYTES
            + " bytes, the most bncheck reads of a Keras file");
      }
      if (!JavaHeap.fits(2 * size)) {
        throw new InvalidInputException(input.toString(), "", "a file of " + size + " bytes "
            + JavaHeap.tooLarge(2 * size));
      }
      return Files.readAllBytes(input);
    } catch (IOException e) {
      throw new InvalidInputException(input.toString(), "", "cannot read: " + e.getMessage(), e);
    }
  }
}
