package dev.bncheck.load.array;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses the small Python literal that a .npy header holds: a dict of strings, integers, booleans,
 * None, tuples and lists (for structured dtypes). Tuples and lists both become {@link List}s,
 * integers {@link BigInteger}s, None {@link #NONE}. Nothing is evaluated.
 */
final class PythonLiteral {

  /** Python's None. */
  static final Object NONE = new Object() {
    @Override
    public String toString() {
      return "None";
    }
  };

  /** Structured dtypes nest a few levels (fields, subarray shapes); a header never needs more. */
  private static final int MAX_DEPTH = 16;

  private static final int MAX_DIGITS = 40;

  /** A syntax error, with the 1-based position of the character where it was found. */
  static final class SyntaxError extends Exception {
    private static final long serialVersionUID = 1L;

    SyntaxError(int at, String problem) {
      super("malformed dictionary at character " + (at + 1) + ": " + problem);
    }
  }

  private final String text;
  private int pos;

  private PythonLiteral(String text) {
    this.text = text;
  }

  /** Parses a dict literal followed only by white space. */
  static Map<String, Object> parseDict(String text) throws SyntaxError {
    PythonLiteral parser = new PythonLiteral(text);
    parser.skipSpace();
    if (parser.peek() != '{') {
      throw parser.error("expected '{'");
    }
    Object value = parser.value(0);
    parser.skipSpace();
    if (parser.pos < text.length()) {
      throw parser.error("unexpected " + parser.describe(parser.peek()) + " after the dictionary");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> dict = (Map<String, Object>) value;
    return dict;
  }

  private Object value(int depth) throws SyntaxError {
    if (depth > MAX_DEPTH) {
      throw error("nested deeper than " + MAX_DEPTH + " levels");
    }
    skipSpace();
    int c = peek();
    if (c == '{') {
      return dict(depth);
    }
    if (c == '(') {
      return sequence(depth, ')');
    }
    if (c == '[') {
      return sequence(depth, ']');
    }
    if (c == '\'' || c == '"') {
      return string();
    }
    if (c == '-' || c == '+' || (c >= '0' && c <= '9')) {
      return integer();
    }
    if (Character.isLetter(c)) {
      int start = pos;
      while (pos < text.length() && Character.isLetterOrDigit(text.charAt(pos))) {
        pos++;
      }
      String word = text.substring(start, pos);
      return switch (word) {
        case "True" -> true;
        case "False" -> false;
        case "None" -> NONE;
        default -> {
          pos = start;
          throw error("unexpected name '" + abbreviate(word) + "'");
        }
      };
    }
    throw error("expected a value, got " + describe(c));
  }

  private Map<String, Object> dict(int depth) throws SyntaxError {
    pos++;
    Map<String, Object> dict = new LinkedHashMap<>();
    while (true) {
      skipSpace();
      if (peek() == '}') {
        pos++;
        return dict;
      }
      int keyAt = pos;
      if (peek() != '\'' && peek() != '"') {
        throw error("expected a string key or '}', got " + describe(peek()));
      }
      String key = string();
      skipSpace();
      expect(':');
      Object value = value(depth + 1);
      if (dict.put(key, value) != null) {
        pos = keyAt;
        throw error("key '" + abbreviate(key) + "' given twice");
      }
      skipSpace();
      if (peek() == ',') {
        pos++;
      } else if (peek() != '}') {
        throw error("expected ',' or '}', got " + describe(peek()));
      }
    }
  }

  /**
   * A tuple or list. A parenthesized single value without a comma is Python's plain value, but
   * a hand-written {@code (3)} can only mean the tuple: it is read as one.
   */
  private List<Object> sequence(int depth, char close) throws SyntaxError {
    pos++;
    List<Object> items = new ArrayList<>();
    while (true) {
      skipSpace();
      if (peek() == close) {
        pos++;
        return items;
      }
      items.add(value(depth + 1));
      skipSpace();
      if (peek() == ',') {
        pos++;
      } else if (peek() != close) {
        throw error("expected ',' or '" + close + "', got " + describe(peek()));
      }
    }
  }

  private String string() throws SyntaxError {
    char quote = text.charAt(pos++);
    StringBuilder out = new StringBuilder();
    while (true) {
      if (pos >= text.length()) {
        throw error("unterminated string");
      }
      char c = text.charAt(pos++);
      if (c == quote) {
        return out.toString();
      }
      if (c == '\n') {
        pos--;
        throw error("unterminated string");
      }
      if (c == '\\' && pos < text.length()) {
        char escaped = text.charAt(pos++);
        if (escaped != '\\' && escaped != '\'' && escaped != '"') {
          out.append('\\');
        }
        out.append(escaped);
      } else {
        out.append(c);
      }
    }
  }

  private BigInteger integer() throws SyntaxError {
    int start = pos;
    if (peek() == '-' || peek() == '+') {
      pos++;
    }
    int digitsStart = pos;
    while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
      pos++;
    }
    if (pos == digitsStart) {
      throw error("expected digits after the sign");
    }
    if (pos - digitsStart > MAX_DIGITS) {
      pos = start;
      throw error("integer longer than " + MAX_DIGITS + " digits");
    }
    BigInteger value = new BigInteger(text.substring(start, pos));
    // Python 2 wrote long integers with a suffix: (3L, 4L).
    if (pos < text.length() && (text.charAt(pos) == 'L' || text.charAt(pos) == 'l')) {
      pos++;
    }
    return value;
  }

  private void expect(char c) throws SyntaxError {
    if (peek() != c) {
      throw error("expected '" + c + "', got " + describe(peek()));
    }
    pos++;
  }

  private void skipSpace() {
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      pos++;
    }
  }

  private int peek() {
    return pos < text.length() ? text.charAt(pos) : -1;
  }

  private String describe(int c) {
    if (c < 0) {
      return "the end of the header";
    }
    if (c >= 0x20 && c < 0x7f) {
      return "'" + (char) c + "'";
    }
    return String.format("character U+%04X", c);
  }

  private SyntaxError error(String problem) {
    return new SyntaxError(pos, problem);
  }

  /** At most 40 characters of a header value, non-ASCII escaped, for an error message. */
  static String abbreviate(String s) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < s.length() && out.length() <= 40; i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c < 0x7f) {
        out.append(c);
      } else {
        out.append(String.format("\\u%04x", (int) c));
      }
    }
    return out.length() <= 40 ? out.toString() : out.substring(0, 37) + "...";
  }
}
