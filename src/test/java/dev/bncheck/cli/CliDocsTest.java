package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * docs/cli.md is the help of every command, generated from the same annotations as --help, so it
 * never drifts. Regenerate with {@code mvn test -Dtest=CliDocsTest -Dbncheck.regenerate=true}.
 */
class CliDocsTest {

  static final Path DOCS = Path.of("docs/cli.md");

  static String render() {
    CommandLine root = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
    StringBuilder out = new StringBuilder();
    out.append("# Command-line reference\n\n")
        .append("Generated from the commands' own definitions (the same text as `--help`); a test keeps it")
        .append(" in step.\n\n")
        .append("Shell completion: `source <(bin/bncheck generate-completion)` in bash or zsh.\n");
    section(out, "bncheck", root);
    for (String name : new String[] {"inspect", "check", "recalibrate"}) {
      section(out, "bncheck " + name, root.getSubcommands().get(name));
    }
    return out.toString();
  }

  private static void section(StringBuilder out, String title, CommandLine command) {
    String usage = command.getUsageMessage(CommandLine.Help.Ansi.OFF).stripTrailing();
    out.append("\n## ").append(title).append("\n\n```\n").append(usage).append("\n```\n");
  }

  @Test
  void cliReferenceIsTheCommandsOwnHelp() throws IOException {
    String rendered = render();
    if (Boolean.getBoolean("bncheck.regenerate")) {
      Files.writeString(DOCS, rendered);
    }
    assertThat(Files.readString(DOCS)).isEqualTo(rendered);
  }

  @Test
  void completionScriptCoversTheCommands() {
    CliRun run = CliRun.of("generate-completion");
    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).contains("complete -F", "inspect", "check", "recalibrate", "--fail-on");
  }
}
