package dev.bncheck.analysis;

import java.util.regex.Pattern;

/**
 * A glob over layer names: {@code *} matches within one {@code /}-separated part, {@code **}
 * across parts, {@code ?} one character; everything else literally. Layer names come from models
 * and may hold any character, so they are matched as strings, never as file paths.
 */
public record Glob(String glob, Pattern pattern) {

  public static Glob of(String glob) {
    StringBuilder regex = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
        regex.append(".*");
        i++;
      } else if (c == '*') {
        regex.append("[^/]*");
      } else if (c == '?') {
        regex.append("[^/]");
      } else {
        regex.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return new Glob(glob, Pattern.compile(regex.toString(), Pattern.DOTALL));
  }

  public boolean matches(String name) {
    return pattern.matcher(name).matches();
  }
}
