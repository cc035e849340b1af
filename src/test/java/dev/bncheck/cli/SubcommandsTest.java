package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class SubcommandsTest {

  private final Map<String, CommandLine> all =
      Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter())).getSubcommands();

  @Test
  void aRunThatNamesASubcommandFirstGetsThatOneAloneUnderItsOwnName() {
    for (String name : new String[] {"inspect", "check", "recalibrate"}) {
      Object[] named = Subcommands.named(new String[] {name, "model.json"});
      assertThat(named).hasSize(1);
      assertThat(named[0]).isExactlyInstanceOf(all.get(name).getCommand().getClass());
    }
  }

  @Test
  void everyOtherRunGetsEverySubcommand() {
    for (String[] args : new String[][] {{}, {"--help"}, {"help", "check"}, {"inspec"}, {"-V", "inspect"}}) {
      assertThat(Subcommands.named(args)).hasSize(all.size());
    }
  }
}
