package dev.bncheck.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** One in-process run of the command line, with what it wrote. */
public record CliRun(int exitCode, String out, String err) {

  public static CliRun of(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new CliRun(code, out.toString(), err.toString());
  }

  /** A run of one subcommand object as given (a test's, with its own loader), without a config file. */
  static CliRun with(Object subcommand, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.execute(Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true),
        new Object[] {subcommand}), args);
    return new CliRun(code, out.toString(), err.toString());
  }
}
