package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bncheck.ThirdPartyFixtures;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The published keyword-spotting graph (fixtures/tf-frozen-dscnn), whose input is a WAV file's
 * bytes (wav_data → DecodeWav → AudioSpectrogram → Mfcc → DS-CNN): fed WAV files with
 * {@code @FILE} and {@code @GLOB}, string .npy arrays, and MFCC features at the cut point
 * {@code --input-node Mfcc:0}. scripts/make_kws_inputs.py made the three clips and TensorFlow's
 * own MFCC features of them (src/test/resources/kws-inputs).
 */
class StringInputsTest {

  private static final String INPUTS = "src/test/resources/kws-inputs/";
  private static final String CLIPS = INPUTS + "*.wav";
  private static final String[] CLIP_NAMES = {"chirp.wav", "noise.wav", "tone.wav"};

  @TempDir Path dir;

  private static String model() {
    return ThirdPartyFixtures.require("tf-frozen-dscnn/DS_CNN_M/DS_CNN_M.pb").toString();
  }

  /** A check whose verdict may go either way (synthetic clips are no speech), never an error. */
  private static JsonNode verdict(String... options) throws IOException {
    List<String> args = new ArrayList<>(List.of("check", model(), "--format", "json", "--quiet"));
    args.addAll(List.of(options));
    CliRun run = CliRun.of(args.toArray(String[]::new));
    assertThat(run.exitCode()).as(run.err()).isIn(ExitCodes.PASS, ExitCodes.FINDINGS);
    JsonNode report = new ObjectMapper().readTree(run.out());
    assertThat(report.get("model").get("bn_layers").asInt()).isEqualTo(9);
    assertThat(report.get("layers")).hasSize(9);
    return report;
  }

  private static CliRun refused(String... options) {
    List<String> args = new ArrayList<>(List.of("check", model()));
    args.addAll(List.of(options));
    return CliRun.of(args.toArray(String[]::new));
  }

  private static void assertEveryLayerCalibratedOn(JsonNode report, int batches) {
    for (JsonNode layer : report.get("layers")) {
      JsonNode calibration = layer.get("calibration");
      assertThat(calibration.get("batches").asInt()).as(layer.get("name").asText()).isEqualTo(batches);
      assertThat(calibration.get("self_check").get("passed").asBoolean()).as(layer.get("name").asText()).isTrue();
    }
  }

  /** Every layer's per-channel population statistics agree between the two runs. */
  private static void assertSameStatistics(JsonNode a, JsonNode b) {
    for (int i = 0; i < 9; i++) {
      JsonNode perA = a.get("layers").get(i).get("metrics").get("per_channel");
      JsonNode perB = b.get("layers").get(i).get("metrics").get("per_channel");
      for (String field : List.of("population_mean", "population_variance")) {
        for (int c = 0; c < 172; c++) {
          double x = perA.get(field).get(c).asDouble();
          assertThat(perB.get(field).get(c).asDouble()).as("layer %d %s channel %d", i, field, c)
              .isCloseTo(x, within(1e-4 * Math.max(1, Math.abs(x))));
        }
      }
    }
  }

  @Test
  void oneWavFileGivesAVerdictOnAllNineLayers() throws IOException {
    JsonNode report = verdict("--inputs", "wav_data=@" + INPUTS + "tone.wav");

    assertEveryLayerCalibratedOn(report, 1);
    assertThat(report.get("layers").get(0).get("calibration").get("first_batch_shape").toString())
        .isEqualTo("[1,25,10,172]");
    assertThat(report.get("data").get("source").asText()).isEqualTo("wav_data=@" + INPUTS + "tone.wav");
  }

  @Test
  void aGlobFeedsEveryMatchingFileOneRunEach() throws IOException {
    JsonNode bare = verdict("--inputs", "@" + CLIPS);
    JsonNode named = verdict("--inputs", "wav_data=@" + CLIPS, "--batch-size", "2");

    assertEveryLayerCalibratedOn(bare, 3);
    assertEveryLayerCalibratedOn(named, 3);
    assertSameStatistics(bare, named);
    // a scalar input has no batch in which single samples could differ (BN005)
    assertThat(bare.get("batch_size_checks")).isEmpty();
  }

  @Test
  void theHashCoversTheFilesAGlobMatches() throws IOException {
    Path clips = Files.createDirectories(dir.resolve("clips"));
    for (String name : CLIP_NAMES) {
      Files.copy(Path.of(INPUTS, name), clips.resolve(name));
    }
    String before = verdict("--inputs", "wav_data=@" + clips + "/*.wav").get("data").get("sha256").asText();
    Files.delete(clips.resolve("noise.wav"));
    JsonNode after = verdict("--inputs", "wav_data=@" + clips + "/*.wav");

    assertThat(after.get("data").get("sha256").asText()).isNotEqualTo(before);
    assertEveryLayerCalibratedOn(after, 2);
  }

  @Test
  void aBytesNpyOfTheClipsIsTheSameDataAsTheFiles() throws IOException {
    Path npy = dir.resolve("wavs.npy");
    Files.write(npy, bytesNpy(CLIP_NAMES));

    assertSameStatistics(verdict("--inputs", "wav_data=" + npy), verdict("--inputs", "wav_data=@" + CLIPS));
  }

  /** TensorFlow's own MFCC of the clips, fed past the decoding, gives what the clips give. */
  @Test
  void mfccFeaturesFedAtTheCutPointGiveTheStatisticsOfTheClips() throws IOException {
    JsonNode fromClips = verdict("--inputs", "wav_data=@" + CLIPS);
    JsonNode fromFeatures = verdict("--input-node", "Mfcc:0", "--inputs", INPUTS + "mfcc.npy");
    Path withChannelAxis = dir.resolve("mfcc4.npy");
    byte[] features = Files.readAllBytes(Path.of(INPUTS, "mfcc.npy"));
    Files.write(withChannelAxis, reshaped(features, "(3, 49, 10)", "(3, 1, 49, 10)"));
    JsonNode perSample = verdict("--input-node", "Mfcc", "--inputs", "Mfcc=" + withChannelAxis);

    assertEveryLayerCalibratedOn(fromFeatures, 3);
    assertSameStatistics(fromClips, fromFeatures);
    assertSameStatistics(fromClips, perSample);
    assertThat(fromFeatures.get("data").get("source").asText()).isEqualTo(INPUTS + "mfcc.npy, fed at Mfcc:0");
  }

  @Test
  void syntheticSamplesCanBeFedAtTheCutPoint() throws IOException {
    assertEveryLayerCalibratedOn(verdict("--input-node", "Mfcc:0", "--synthetic", "2"), 2);
  }

  /** A WAV input decoded by DecodeWav gets WAV files of noise, as long as the decoder asks for. */
  @Test
  void syntheticSamplesOfAWavInputAreWavFilesOfNoise() throws IOException {
    assertEveryLayerCalibratedOn(verdict("--synthetic", "4"), 4);
  }

  /** Random bytes are no image or serialized example: a string input not decoded as WAV is refused. */
  @Test
  void syntheticStringsOtherThanWavAreRefusedPointingToFilesAndTheCutPoint() throws IOException {
    GraphDef graph = GraphDef.parseFrom(Files.readAllBytes(Path.of(model())));
    Path withText = dir.resolve("with-text.pb");
    // read by a node, or it would be no input at all
    Files.write(withText, graph.toBuilder().addNode(NodeDef.newBuilder().setName("caption").setOp("Placeholder")
        .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_STRING).build()))
        .addNode(NodeDef.newBuilder().setName("caption_copy").setOp("Identity").addInput("caption")
            .putAttr("T", AttrValue.newBuilder().setType(DataType.DT_STRING).build()))
        .build().toByteArray());

    CliRun run = CliRun.of("check", withText.toString(), "--synthetic", "4");

    assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.err()).isEqualTo("bncheck: error: --synthetic: caption: the input takes strings, which bncheck"
        + " cannot make up; give files with --inputs caption=@FILE (or @GLOB), or feed a tensor past the decoding"
        + " with --input-node (docs/tensorflow.md)\n");
  }

  @Test
  void dataOfTheWrongKindOrShapeIsAnInputErrorNamingTheInput() throws IOException {
    Path wrongShape = dir.resolve("mfcc11.npy");
    Files.write(wrongShape, reshaped(Files.readAllBytes(Path.of(INPUTS, "mfcc.npy")), "(3, 49, 10)", "(3, 49, 5, 2)"));

    CliRun numbersForStrings = refused("--inputs", "wav_data=" + INPUTS + "mfcc.npy");
    CliRun stringsForNumbers = refused("--input-node", "Mfcc:0", "--inputs", "Mfcc:0=@" + INPUTS + "tone.wav");
    CliRun shape = refused("--input-node", "Mfcc:0", "--inputs", wrongShape.toString());

    assertThat(List.of(numbersForStrings.exitCode(), stringsForNumbers.exitCode(), shape.exitCode()))
        .containsOnly(ExitCodes.INVALID_INPUT);
    assertThat(numbersForStrings.err()).isEqualTo("bncheck: error: --inputs: wav_data: the model takes DT_STRING,"
        + " the data holds float32 (give files as @FILE, or an .npy of dtype S or U)\n");
    assertThat(stringsForNumbers.err())
        .isEqualTo("bncheck: error: --inputs: Mfcc:0: the model takes DT_FLOAT, the data holds string\n");
    assertThat(shape.err()).isEqualTo("bncheck: error: --inputs: Mfcc:0: data of shape [3, 49, 5, 2] does not fit"
        + " the model's input of shape [1, 49, 10] (the data's first axis lists the samples)\n");
  }

  @Test
  void anInputNodeTheGraphDoesNotHaveIsAnInputErrorNamingIt() {
    CliRun unknown = refused("--input-node", "Mfccc:0", "--inputs", INPUTS + "mfcc.npy");
    CliRun output = refused("--input-node", "Mfcc:1", "--inputs", INPUTS + "mfcc.npy");

    assertThat(unknown.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(unknown.err()).isEqualTo("bncheck: error: " + model() + ": --input-node Mfccc:0: the graph has no node Mfccc\n");
    assertThat(output.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(output.err()).isEqualTo("bncheck: error: " + model() + ": --input-node Mfcc:1: node Mfcc has 1 output\n");
  }

  @Test
  void anInputNodeWrittenOtherwiseThanTensorFlowWritesTensorsIsAUsageError() {
    for (String name : List.of("Mfcc:01", "^Mfcc", "Mfcc:x:0")) {
      CliRun run = refused("--input-node", name, "--inputs", INPUTS + "mfcc.npy");
      assertThat(run.exitCode()).as(name).isEqualTo(ExitCodes.USAGE);
      assertThat(run.err()).isEqualTo("bncheck: error: --input-node " + name + ": expected NODE or NODE:INDEX, as in"
          + " Mfcc:0\n");
    }
    CliRun twice = refused("--input-node", "Mfcc", "--input-node", "Mfcc:0", "--synthetic", "2");
    assertThat(twice.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(twice.err()).isEqualTo("bncheck: error: --input-node Mfcc:0: names a tensor given before\n");
  }

  @Test
  void aGlobThatMatchesNothingIsAnInputError() {
    CliRun run = refused("--inputs", "wav_data=@" + INPUTS + "*.flac");

    assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.err()).isEqualTo("bncheck: error: " + INPUTS + "*.flac: no regular file matches this glob\n");
  }

  @Test
  void anArgumentStartingWithAtIsDataNotAFileOfArguments() {
    // picocli's argument files would read the WAV file's bytes as options
    CliRun run = CliRun.of("check", model(), "--inputs", "@" + INPUTS + "tone.wav", "--format", "json", "--quiet");

    assertThat(run.exitCode()).as(run.err()).isIn(ExitCodes.PASS, ExitCodes.FINDINGS);
  }

  @Test
  void anInputNodeOfATf1SavedModelIsFedInsteadOfTheSignaturesInput() throws IOException {
    CliRun run = CliRun.of("check", "samples/tf-bn-mistakes/tf1-correct", "--input-node", "eval/conv1/Conv2D:0",
        "--synthetic", "8", "--format", "json", "--quiet");

    assertThat(run.exitCode()).as(run.err()).isIn(ExitCodes.PASS, ExitCodes.FINDINGS);
    JsonNode report = new ObjectMapper().readTree(run.out());
    assertThat(report.get("layers")).hasSize(2);
    for (JsonNode layer : report.get("layers")) {
      assertThat(layer.get("calibration").get("batches").asInt()).isEqualTo(1);
    }
  }

  @Test
  void anInputNodeBesideThePathTheOutputsTakeLeavesTheModelsInputUnfed() {
    // conv1/Conv2D is the training tower's; the serving path runs eval/conv1/Conv2D
    CliRun run = CliRun.of("check", "samples/tf-bn-mistakes/tf1-correct", "--input-node", "conv1/Conv2D:0",
        "--synthetic", "8");

    assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.err()).startsWith("bncheck: error: --synthetic 8: samples 0, 1, 2, 3, 4, 5, 6, 7 of the data (in"
        + " the shuffled order of --batch-order, positions 0 to 7): the model cannot run on this data: You must feed a"
        + " value for placeholder tensor 'input'");
  }

  @Test
  void aNodeInsideAFunctionCannotBeFed() {
    CliRun run = CliRun.of("check", "samples/keras-cnn-trained", "--input-node", "keras_cnn/conv1/Conv2D",
        "--synthetic", "2");

    assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.err()).isEqualTo("bncheck: error: samples/keras-cnn-trained: --input-node keras_cnn/conv1/Conv2D:"
        + " the graph has no node keras_cnn/conv1/Conv2D; only nodes of the top-level graph can be fed, not nodes"
        + " inside its functions\n");
  }

  @Test
  void anInputNodeWithoutDataIsAUsageError() {
    CliRun run = refused("--input-node", "Mfcc:0");

    assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).startsWith("bncheck: error: --input-node feeds data: give it with --inputs or --synthetic\n");
  }

  @Test
  void anInputNodeIsRefusedForADump() {
    CliRun run = CliRun.of("check", "samples/healthy.json", "--input-node", "x");

    assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).contains("--input-node applies to TensorFlow models only");
  }

  /** A .npy of dtype |S holding the files' bytes, as np.array([open(f, "rb").read() ...]) saves it. */
  private static byte[] bytesNpy(String... names) throws IOException {
    List<byte[]> files = new ArrayList<>();
    int longest = 0;
    for (String name : names) {
      byte[] content = Files.readAllBytes(Path.of(INPUTS, name));
      files.add(content);
      longest = Math.max(longest, content.length);
    }
    ByteBuffer data = ByteBuffer.allocate(longest * files.size());
    for (byte[] content : files) {
      data.put(content).position(data.position() + longest - content.length);
    }
    return npy("{'descr': '|S" + longest + "', 'fortran_order': False, 'shape': (" + files.size() + ",), }", data.array());
  }

  /** The same .npy file with another shape in its header (the data unchanged). */
  private static byte[] reshaped(byte[] npy, String from, String to) {
    int headerLength = (npy[8] & 0xff) | (npy[9] & 0xff) << 8;
    String header = new String(npy, 10, headerLength, StandardCharsets.ISO_8859_1);
    assertThat(header).contains(from);
    String dict = header.strip().replace(from, to);
    byte[] data = java.util.Arrays.copyOfRange(npy, 10 + headerLength, npy.length);
    return npy(dict, data);
  }

  private static byte[] npy(String dict, byte[] data) {
    StringBuilder header = new StringBuilder(dict);
    while ((10 + header.length() + 1) % 64 != 0) {
      header.append(' ');
    }
    header.append('\n');
    byte[] text = header.toString().getBytes(StandardCharsets.ISO_8859_1);
    ByteBuffer out = ByteBuffer.allocate(10 + text.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    out.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) text.length);
    return out.put(text).put(data).array();
  }
}
