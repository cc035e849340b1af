package dev.bncheck.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.analysis.CheckDeclaration;
import dev.bncheck.analysis.Checks;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The HTML report's explanations are docs/findings.md's sections: the build packages the page, every
 * check has its section there, and every section stays within the Markdown the report renders.
 */
class FindingDocsTest {

  @Test
  void packagedPageIsDocsFindingsMd() throws Exception {
    try (InputStream in = FindingDocs.class.getResourceAsStream(FindingDocs.RESOURCE)) {
      assertThat(in).as("packaged by the build").isNotNull();
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8))
          .isEqualTo(Files.readString(Path.of("docs/findings.md")));
    }
  }

  @Test
  void everyCheckHasItsExplanationTitledAsTheCheck() {
    for (CheckDeclaration check : Checks.DECLARATIONS) {
      assertThat(FindingDocs.of(check.code())).as(check.code()).hasValueSatisfying(section -> {
        assertThat(section.title()).isEqualTo(check.title());
        assertThat(section.markdown()).contains("**Cause.**", "**Evidence.**", "**Fix.**");
      });
    }
  }

  @Test
  void everySectionRendersWithoutMarkdownLeftOver() {
    for (CheckDeclaration check : Checks.DECLARATIONS) {
      String html = MarkdownHtml.html(FindingDocs.of(check.code()).orElseThrow().markdown());
      var tags = Pattern.compile("</?([a-z]+)").matcher(html).results().map(m -> m.group(1)).distinct().toList();
      assertThat(tags).as(check.code()).isSubsetOf("p", "ul", "li", "code", "strong");
      String text = html.replaceAll("<[^>]+>", "");
      assertThat(text).as(check.code()).doesNotContain("**", "`", "](", "\n#", "\n- ", "<a id=");
    }
  }

  @Test
  void sectionsEndAtTheNextAnchorAndAnchorsMatchTheirCodes() {
    var sections = FindingDocs.parse("""
        intro
        <a id="bn001"></a>
        ## BN001 first

        text one

        <a id="bn002"></a>
        ## BN002 second
        line
        """);
    assertThat(sections.get("BN001")).isEqualTo(new FindingDocs.Section("BN001", "first", "text one"));
    assertThat(sections.get("BN002")).isEqualTo(new FindingDocs.Section("BN002", "second", "line"));
  }
}
