package dev.bncheck.cli;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Puts a mark at the start of every line and every carriage-return segment bncheck writes to
 * stderr, when the launcher asks for it ({@code BNCHECK_STDERR_MARK}, a random string per run).
 * The launcher's filter then passes marked text on as bncheck's own and treats everything else
 * (what TensorFlow's native runtime writes to the same stream, model text included) as foreign:
 * a model cannot forge a line that looks like bncheck's, since it cannot know the mark.
 */
final class MarkedStream extends FilterOutputStream {

  private final byte[] mark;
  private boolean segmentStart = true;

  MarkedStream(OutputStream out, String mark) {
    super(out);
    this.mark = mark.getBytes(StandardCharsets.US_ASCII);
  }

  /** The stream to write stderr through: marked when the launcher gave a mark. */
  static OutputStream of(OutputStream err) {
    String mark = System.getenv("BNCHECK_STDERR_MARK");
    return mark == null || mark.isEmpty() ? err : new MarkedStream(err, mark);
  }

  @Override
  public synchronized void write(int b) throws IOException {
    if (segmentStart) {
      out.write(mark);
    }
    out.write(b);
    segmentStart = b == '\n' || b == '\r';
  }

  @Override
  public synchronized void write(byte[] b, int off, int len) throws IOException {
    for (int i = off; i < off + len; i++) {
      write(b[i]);
    }
  }
}
