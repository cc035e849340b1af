package dev.bncheck.cli;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import picocli.CommandLine;

/**
 * Reads an option's value as one of an enum's constants written in lower case ({@code auto},
 * {@code shuffled}), and says which values exist when it is none of them.
 */
abstract class LowercaseEnumConverter<E extends Enum<E>> implements CommandLine.ITypeConverter<E> {

  private final Class<E> type;

  LowercaseEnumConverter(Class<E> type) {
    this.type = type;
  }

  @Override
  public E convert(String value) {
    for (E constant : type.getEnumConstants()) {
      if (constant.name().toLowerCase(Locale.ROOT).equals(value)) {
        return constant;
      }
    }
    throw new CommandLine.TypeConversionException("expected " + Arrays.stream(type.getEnumConstants())
        .map(c -> c.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", ")) + "; got '" + value + "'");
  }
}
