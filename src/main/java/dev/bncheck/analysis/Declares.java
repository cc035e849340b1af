package dev.bncheck.analysis;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * What a check is, written on its class: read once into its {@link CheckDeclaration}, which the
 * docs, JUnit, HTML and JSON reports and the meta-tests read.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface Declares {

  /** The stable code, e.g. {@code BN001}: never renumbered. */
  String code();

  /** A few words naming what the check detects, as docs/findings.md titles it. */
  String title();

  CheckDeclaration.DataNeed data();

  /** Codes whose finding on the same layer already explains this one. */
  String[] supersededBy() default {};

  /** Codes whose findings this one's makes its consequences (model-level checks). */
  String[] explains() default {};
}
