package dev.bncheck.load.dump;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import dev.bncheck.load.InvalidInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** A Jackson streaming parser over one file, with limits and messages fit for untrusted input. */
final class JsonInput implements AutoCloseable {

  /** The dump format nests at most five levels; anything deeper is not a dump. */
  private static final int MAX_NESTING = 32;

  private static final int MAX_NUMBER_LENGTH = 64;

  private static final JsonFactory FACTORY =
      JsonFactory.builder()
          // Python's json module writes NaN and Infinity bare unless told otherwise.
          .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
          .streamReadConstraints(
              StreamReadConstraints.builder()
                  .maxNestingDepth(MAX_NESTING)
                  .maxNumberLength(MAX_NUMBER_LENGTH)
                  // base64 tensors are single strings as large as the tensor itself.
                  .maxStringLength(Integer.MAX_VALUE)
                  .build())
          .build();

  private final Path file;
  private final JsonParser parser;

  JsonInput(Path file) {
    this.file = file;
    try {
      this.parser = FACTORY.createParser(file.toFile());
    } catch (IOException e) {
      throw new InvalidInputException(file.toString(), "", "cannot open: " + e.getMessage(), e);
    }
  }

  JsonParser parser() {
    return parser;
  }

  String fileName() {
    return file.toString();
  }

  /** Advances to the next token, turning Jackson's errors into one-line input errors. */
  JsonToken next(String location) {
    try {
      JsonToken token = parser.nextToken();
      if (token == null) {
        throw error(location, "unexpected end of file (truncated?)");
      }
      return token;
    } catch (IOException e) {
      throw translate(location, e);
    }
  }

  void skipValue(String location) {
    try {
      parser.skipChildren();
    } catch (IOException e) {
      throw translate(location, e);
    }
  }

  String text(String location) {
    try {
      return parser.getText();
    } catch (IOException e) {
      throw translate(location, e);
    }
  }

  InvalidInputException error(String location, String problem) {
    return new InvalidInputException(file.toString(), location, problem);
  }

  InvalidInputException translate(String location, IOException e) {
    if (e instanceof JsonEOFException) {
      return error(location, "unexpected end of file (truncated?)");
    }
    if (e instanceof StreamConstraintsException sce) {
      return error(location, "JSON exceeds a safety limit: " + dev.bncheck.load.JacksonMessages.plain(
          sce.getOriginalMessage()));
    }
    if (e instanceof JsonProcessingException jpe) {
      var where = jpe.getLocation();
      String at = where == null ? "" : " at line " + where.getLineNr() + ", column " + where.getColumnNr();
      return error(location, "malformed JSON" + at + ": " + dev.bncheck.load.JacksonMessages.plain(
          jpe.getOriginalMessage()));
    }
    return new InvalidInputException(file.toString(), location, "read failed: " + e.getMessage(), new UncheckedIOException(e));
  }

  @Override
  public void close() {
    try {
      parser.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
