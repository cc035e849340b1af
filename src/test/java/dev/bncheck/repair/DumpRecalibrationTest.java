package dev.bncheck.repair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.bncheck.cli.Main;
import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.load.dump.BnModelFromDump;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.Tensor;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DumpRecalibrationTest {

  @TempDir Path dir;

  static int run(String... args) {
    return Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(new StringWriter(), true), args);
  }

  /** The activations the stale sample holds for each layer, collected without bncheck's kernels. */
  static List<List<Tensor>> activations() {
    List<List<Tensor>> out = new ArrayList<>();
    new BnModelFromDump().load(Path.of("samples/stale.json"), new CalibrationSink() {
      @Override
      public boolean wantsActivations() {
        return true;
      }

      @Override
      public void accept(int layerIndex, Tensor batch, int channelAxis) {
        while (out.size() <= layerIndex) {
          out.add(new ArrayList<>());
        }
        out.get(layerIndex).add(batch);
      }
    });
    return out;
  }

  /**
   * With nothing held out, every activation sets the statistics. The sample's 32 samples are too
   * few to set 80 channels' statistics by the sampling policy, so it takes {@code --force}.
   */
  @Test
  void staleDumpGetsThePopulationStatisticsOfItsActivationsAndThenPasses() throws Exception {
    Path fixed = dir.resolve("fixed.json");
    byte[] input = Files.readAllBytes(Path.of("samples/stale.json"));
    assertThat(run("recalibrate", "samples/stale.json", "--out", fixed.toString(), "--held-out", "0"))
        .isEqualTo(1);
    assertThat(fixed).doesNotExist();
    assertThat(run("recalibrate", "samples/stale.json", "--out", fixed.toString(), "--held-out", "0", "--force"))
        .isZero();
    assertThat(Files.readAllBytes(Path.of("samples/stale.json"))).as("the input is untouched").isEqualTo(input);
    BnModel model = new BnModelFromDump().load(fixed, CalibrationSink.NONE);
    List<List<Tensor>> data = activations();
    for (int l = 0; l < model.layers().size(); l++) {
      BnLayer layer = model.layers().get(l);
      int channels = layer.channels();
      double[] sum = new double[channels];
      long n = 0;
      for (Tensor t : data.get(l)) {
        for (int i = 0; i < t.size(); i++) {
          sum[i % channels] += t.get(i);
        }
        n += t.size() / channels;
      }
      double[] sq = new double[channels];
      for (Tensor t : data.get(l)) {
        for (int i = 0; i < t.size(); i++) {
          double d = t.get(i) - sum[i % channels] / n;
          sq[i % channels] += d * d;
        }
      }
      for (int c = 0; c < channels; c++) {
        assertThat(layer.movingMean()[c]).isCloseTo(sum[c] / n, within(1e-9));
        assertThat(layer.movingVariance()[c]).isCloseTo(sq[c] / (n - 1), within(1e-9));
      }
    }
    assertThat(run("check", fixed.toString())).isZero();
    assertThat(run("check", "samples/stale.json")).isEqualTo(1);
    CalibrationAccumulator embedded = new CalibrationAccumulator();
    new BnModelFromDump().load(fixed, embedded);
    assertThat(embedded.layer(0).orElseThrow().batches()).as("the activations are copied unchanged").hasSize(4);
  }
}
