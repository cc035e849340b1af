package dev.bncheck.load.array;

import static dev.bncheck.load.array.ArrayFixtures.bytes;
import static dev.bncheck.load.array.ArrayFixtures.fixture;
import static dev.bncheck.load.array.ArrayFixtures.zip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.model.Tensor;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelInputsTest {

  @TempDir Path dir;

  private Path copy(String fixture, String name) throws IOException {
    return Files.write(dir.resolve(name), bytes(fixture));
  }

  private static String spec(Path file) {
    return file.toString();
  }

  private static float[] floats(Tensor tensor) {
    return ((Tensor.Float32) tensor).data();
  }

  private Path file(String name, String content) throws IOException {
    Path file = dir.resolve(name);
    Files.createDirectories(file.getParent());
    return Files.writeString(file, content, StandardCharsets.US_ASCII);
  }

  private static List<String> strings(InputArray array) {
    assertThat(array).isInstanceOf(InputArray.Strings.class);
    return Arrays.stream(((InputArray.Strings) array).values()).map(b -> new String(b, StandardCharsets.US_ASCII))
        .toList();
  }

  @Test
  void nameEqualsValueGivesOneValueForEveryRun() {
    Map<String, InputArray> inputs = ModelInputs.readArrays(List.of("is_training=False", "keep_prob=1",
        "rate=-2.5e-1"));

    assertThat(inputs.keySet()).containsExactly("is_training", "keep_prob", "rate");
    assertThat(inputs.values()).allMatch(InputArray::perRun);
    assertThat(inputs.values().stream().map(a -> ((InputArray.Numbers) a).tensor().get(0)).toList())
        .containsExactly(0.0, 1.0, -0.25);
    assertThat(ModelInputs.files(List.of("is_training=false"))).isEmpty();
    assertThat(ModelInputs.perRunValues(List.of("is_training=true", "x=nan"))).containsExactly(
        Map.entry("is_training", 1.0));
  }

  @Test
  void aFileNamedLikeAValueIsTheFileAndAWordThatIsNoValueIsAMissingFile() throws IOException {
    Path one = dir.resolve("1");
    Files.write(one, dev.bncheck.TestFiles.npy(new float[] {7, 8}, 2));

    assertThat(((InputArray.Numbers) ModelInputs.readArrays(List.of("x=" + one)).get("x")).tensor().shape())
        .containsExactly(2);
    assertThatThrownBy(() -> ModelInputs.readArrays(List.of("x=nan")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("no such file");
  }

  @Test
  void aScalarNpyCountsAsAPerRunValueAndLargeFilesAreNotReadForIt() throws IOException {
    Path flag = dir.resolve("flag.npy");
    Files.write(flag, dev.bncheck.TestFiles.npy(new float[] {1}));
    Path samples = dir.resolve("samples.npy");
    Files.write(samples, dev.bncheck.TestFiles.npy(new float[2000], 2000));

    assertThat(ModelInputs.perRunValues(List.of("flag=" + flag, "x=" + samples)))
        .containsExactly(Map.entry("flag", 1.0));
  }

  @Test
  void atFileGivesTheFilesBytesAsOneStringSample() throws IOException {
    Path wav = file("clip.wav", "RIFF\0\1");

    Map<String, InputArray> named = ModelInputs.readArrays(List.of("wav_data=@" + wav));
    Map<String, InputArray> bare = ModelInputs.readArrays(List.of("@" + wav));

    assertThat(named).containsOnlyKeys("wav_data");
    assertThat(named.get("wav_data").shape()).containsExactly(1);
    assertThat(strings(named.get("wav_data"))).containsExactly("RIFF\0\1");
    assertThat(bare).containsOnlyKeys(ModelInputs.SINGLE_INPUT);
  }

  @Test
  void atGlobGivesOneSamplePerMatchingFileSortedByPathLeavingHiddenFilesOut() throws IOException {
    file("clips/b.wav", "b");
    file("clips/a.wav", "a");
    file("clips/A2.wav", "A2");
    file("clips/notes.txt", "not audio");
    file("clips/.hidden.wav", "hidden");
    file("clips/more/c.wav", "c");
    file("clips/.cache/d.wav", "d");
    String clips = dir.resolve("clips").toString();

    assertThat(strings(ModelInputs.readArrays(List.of("x=@" + clips + "/*.wav")).get("x")))
        .containsExactly("A2", "a", "b");
    assertThat(strings(ModelInputs.readArrays(List.of("x=@" + clips + "/**.wav")).get("x")))
        .containsExactly("A2", "a", "b", "c");
    assertThat(strings(ModelInputs.readArrays(List.of("x=@" + clips + "/.*.wav")).get("x")))
        .containsExactly("hidden");
    assertThat(ModelInputs.files(List.of("x=@" + clips + "/*.wav", fixture("uint8.npy").toString())))
        .containsExactly(dir.resolve("clips/A2.wav"), dir.resolve("clips/a.wav"), dir.resolve("clips/b.wav"),
            fixture("uint8.npy"));
  }

  @Test
  void atGlobRelativeToTheWorkingDirectoryListsRelativePaths() {
    List<Path> files = ModelInputs.files(List.of("@src/test/resources/arrays/uint*.npy"));

    assertThat(files).containsExactly(Path.of("src/test/resources/arrays/uint16.npy"),
        Path.of("src/test/resources/arrays/uint32.npy"), Path.of("src/test/resources/arrays/uint64.npy"),
        Path.of("src/test/resources/arrays/uint8.npy"));
  }

  @Test
  void atSpecsThatNameNoFileAreInputErrors() throws IOException {
    Path clips = Files.createDirectories(dir.resolve("clips"));

    assertThatThrownBy(() -> ModelInputs.readArrays(List.of("x=@" + clips + "/*.wav")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(clips + "/*.wav: no regular file matches this glob");
    assertThatThrownBy(() -> ModelInputs.readArrays(List.of("x=@" + clips)))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(clips + ": is a directory; write @" + clips + "/* for one sample per file in it");
    assertThatThrownBy(() -> ModelInputs.readArrays(List.of("x=@" + clips + "/missing.wav")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(clips + "/missing.wav: no such file or directory");
    assertThatThrownBy(() -> ModelInputs.readArrays(List.of("x=@")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage("@: no file after '@'; write @FILE or @GLOB");
    assertThatThrownBy(() -> ModelInputs.readArrays(List.of("x=@" + clips + "/[*.wav")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith(clips + "/[*.wav: not a valid glob: ");
  }

  @Test
  void stringsAreRefusedWhereOnlyNumbersAreRead() throws IOException {
    Path wav = file("clip.wav", "RIFF");

    assertThatThrownBy(() -> ModelInputs.read(List.of("wav_data=@" + wav)))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage("wav_data=@" + wav + ": gives files as strings, where numbers are expected");
    assertThatThrownBy(() -> ModelInputs.read(List.of(fixture("unicode.npy").toString())))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(fixture("unicode.npy") + ": header: holds strings, where numbers are expected");
    assertThat(strings(ModelInputs.readArrays(List.of(fixture("unicode.npy").toString())).get(""))).containsExactly("ab", "c");
  }

  @Test
  void anAtSpecGivingAnInputTwiceIsRefused() throws IOException {
    Path wav = file("clip.wav", "RIFF");

    assertThatThrownBy(() -> ModelInputs.readArrays(List.of("x=@" + wav, "x=" + fixture("uint8.npy"))))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(fixture("uint8.npy") + ": input 'x' is given twice (also by @" + wav + ")");
  }

  @Test
  void bareNpyFileIsTheSingleInput() {
    Map<String, Tensor> inputs = ModelInputs.read(List.of(spec(fixture("uint8.npy"))));

    assertThat(inputs).containsOnlyKeys(ModelInputs.SINGLE_INPUT);
    assertThat(floats(inputs.get(""))).containsExactly(0f, 1f, 255f);
  }

  @Test
  void bareJsonTensorFileIsTheSingleInput() {
    Map<String, Tensor> inputs = ModelInputs.read(List.of(spec(fixture("tensor.json"))));

    assertThat(inputs).containsOnlyKeys("");
    assertThat(inputs.get("").shape()).containsExactly(2, 2);
    assertThat(floats(inputs.get(""))).containsExactly(1f, 2f, 3f, 4.5f);
  }

  @Test
  void bareNpzFileGivesOneInputPerArrayInArchiveOrder() {
    Map<String, Tensor> inputs = ModelInputs.read(List.of(spec(fixture("stored.npz"))));

    assertThat(inputs.keySet()).containsExactly("images", "labels");
    assertThat(inputs.get("images").shape()).containsExactly(2, 4, 4, 3);
  }

  @Test
  void namedFilesAreKeptInTheOrderGiven() {
    Map<String, Tensor> inputs = ModelInputs.read(List.of(
        "mask=" + fixture("bool.npy"), "image=" + fixture("tensor.json"), "x=" + fixture("single.npz")));

    assertThat(inputs.keySet()).containsExactly("mask", "image", "x");
    assertThat(floats(inputs.get("mask"))).containsExactly(1f, 0f, 1f);
    assertThat(floats(inputs.get("x"))).containsExactly(1f, 2f, 3f, 4f);
  }

  @Test
  void bareNpzAndNamedFilesCombine() {
    Map<String, Tensor> inputs = ModelInputs.read(List.of(spec(fixture("stored.npz")), "mask=" + fixture("bool.npy")));

    assertThat(inputs.keySet()).containsExactly("images", "labels", "mask");
  }

  @Test
  void namedNpzWithSeveralArraysIsRefused() {
    Path file = fixture("stored.npz");

    assertThatThrownBy(() -> ModelInputs.read(List.of("in=" + file)))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": holds 2 arrays (images, labels), but in=" + file
            + " needs exactly one; give the .npz without NAME= to use its arrays by their names");
  }

  @Test
  void sameNameTwiceIsRefused() {
    Path first = fixture("uint8.npy");
    Path second = fixture("int8.npy");

    assertThatThrownBy(() -> ModelInputs.read(List.of("x=" + first, "x=" + second)))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(second + ": input 'x' is given twice (also by " + first + ")");
  }

  @Test
  void namedFileRepeatingAnArrayOfABareNpzIsRefused() {
    Path archive = fixture("stored.npz");
    Path file = fixture("uint8.npy");

    assertThatThrownBy(() -> ModelInputs.read(List.of(spec(archive), "labels=" + file)))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": input 'labels' is given twice (also by " + archive + ")");
  }

  @Test
  void twoBareFilesAreRefused() {
    Path first = fixture("uint8.npy");
    Path second = fixture("tensor.json");

    assertThatThrownBy(() -> ModelInputs.read(List.of(spec(first), spec(second))))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(second + ": a second file without NAME= (" + first
            + " is already the single input); name each input with NAME=FILE");
  }

  @Test
  void bareFileBesideNamedInputsIsRefused() {
    Path bare = fixture("uint8.npy");

    assertThatThrownBy(() -> ModelInputs.read(List.of(spec(bare), "mask=" + fixture("bool.npy"))))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(bare + ": a file without NAME= is the model's single input, but other inputs are given too;"
            + " write NAME=" + bare);
  }

  @Test
  void missingFileIsNamed() {
    Path file = dir.resolve("nope.npy");

    assertThatThrownBy(() -> ModelInputs.read(List.of("x=" + file)))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": no such file or directory");
  }

  @Test
  void filesWithoutAKnownExtensionAreRecognisedByTheirFirstBytes() throws IOException {
    Path npy = copy("uint8.npy", "images.bin");
    Path npz = copy("single.npz", "batch.zip");
    Path json = copy("tensor.json", "tensor.txt");

    Map<String, Tensor> inputs = ModelInputs.read(List.of("a=" + npy, spec(npz), "b=" + json));

    assertThat(inputs.keySet()).containsExactly("a", "x", "b");
    assertThat(floats(inputs.get("a"))).containsExactly(0f, 1f, 255f);
  }

  @Test
  void fileOfAnUnknownKindIsRefused() throws IOException {
    Path file = Files.writeString(dir.resolve("notes.txt"), "hello");

    assertThatThrownBy(() -> ModelInputs.read(List.of(spec(file))))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": not a .npy, .npz or JSON tensor file (neither by its extension nor by its content)");
  }

  @Test
  void existingFileWhoseNameContainsAnEqualsSignIsABareFile() throws IOException {
    Path file = copy("uint8.npy", "lr=0.1.npy");

    assertThat(ModelInputs.read(List.of(spec(file)))).containsOnlyKeys("");
  }

  @Test
  void specWithoutANameBeforeTheEqualsSignIsRefused() {
    assertThatThrownBy(() -> ModelInputs.read(List.of("=x.npy")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage("=x.npy: no input name before '='; write NAME=FILE");
  }

  @Test
  void npzWithoutArraysIsRefused() throws IOException {
    Path file = Files.write(dir.resolve("empty.npz"), zip(false));

    assertThatThrownBy(() -> ModelInputs.read(List.of(spec(file))))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": holds no arrays");
  }

  @Test
  void sparseJsonTensorDeclaringMoreThanTheHeapHoldsIsRefusedBeforeAllocating() throws IOException {
    // 2e9 float64 values need 16 GB; a 4 GB file (sparse, so it costs no disk) could hold their text.
    long count = 2_000_000_000L;
    assumeTrue(count * 8 > Runtime.getRuntime().maxMemory(), "the test JVM's heap would hold the array");
    Path file = Files.writeString(dir.resolve("t.json"),
        "{\"dtype\": \"float64\", \"shape\": [" + count + "], \"data\": [");
    try (RandomAccessFile sparse = new RandomAccessFile(file.toFile(), "rw")) {
      sparse.setLength(2 * count + 64);
    }

    assertThatThrownBy(() -> ModelInputs.read(List.of(file.toString())))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith(file + ": shape [2000000000] needs 14.9 GB of memory, more than the ")
        .hasMessageContaining("BNCHECK_JAVA_OPTS");
  }

  @Test
  void errorsOfAJsonTensorFileNameTheFile() throws IOException {
    Path file = Files.writeString(dir.resolve("t.json"),
        "{\"dtype\": \"float32\", \"shape\": [3], \"data\": [1, 2]}", StandardCharsets.UTF_8);
    Path trailing = Files.writeString(dir.resolve("u.json"),
        "{\"dtype\": \"float32\", \"shape\": [1], \"data\": [1]} {}", StandardCharsets.UTF_8);

    assertThatThrownBy(() -> ModelInputs.read(List.of(spec(file))))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": .data: shape [3] needs 3 values, got 2");
    assertThatThrownBy(() -> ModelInputs.read(List.of(spec(trailing))))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(trailing + ": unexpected content after the tensor");
  }
}
