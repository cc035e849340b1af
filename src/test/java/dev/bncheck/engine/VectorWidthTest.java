package dev.bncheck.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The engine's tests run three times (pom.xml): at the CPU's own vector width, held to 256-bit
 * vectors as on an AVX2 CPU, and held to 128-bit vectors, where the kernel falls back to its
 * scalar loops. On an AVX-512 machine the 256-bit loops would otherwise never be tested. This
 * test fails if a run's vectors are wider than it was set up for (a JVM that ignored the option
 * would make the other tests of that run repeat the first run's), or if the kernel's choice of
 * loops does not follow the width the run got. A CPU with narrower vectors (AVX alone gives the
 * JIT 128-bit doubles) runs every run at its own width: there the 256-bit run repeats the others.
 */
class VectorWidthTest {

  /** The width a run was set up for, from pom.xml: "preferred", "256" or "128". */
  private static final String SET_UP_FOR = System.getProperty("bncheck.test.vectorBits", "preferred");

  @Test
  void theKernelWidensAtTheWidthThisRunWasSetUpFor() throws ReflectiveOperationException {
    int bits = preferredDoubleVectorBits();
    switch (SET_UP_FOR) {
      case "preferred" -> assertThat(MomentsKernel.widensInVectors())
          .as("the Vector API loops on %d-bit vectors", bits).isEqualTo(bits == 256 || bits == 512);
      case "256" -> {
        assertThat(bits).as("the JVM's widest vectors with -XX:MaxVectorSize=32").isLessThanOrEqualTo(256);
        assertThat(MomentsKernel.widensInVectors()).as("the Vector API loops on %d-bit vectors", bits)
            .isEqualTo(bits == 256);
      }
      case "128" -> {
        assertThat(bits).as("the JVM's widest vectors with -XX:MaxVectorSize=16").isLessThanOrEqualTo(128);
        assertThat(MomentsKernel.widensInVectors()).as("the scalar loops on %d-bit vectors", bits).isFalse();
      }
      default -> throw new IllegalArgumentException("bncheck.test.vectorBits: " + SET_UP_FOR);
    }
  }

  /**
   * {@code DoubleVector.SPECIES_PREFERRED.vectorBitSize()}, read by reflection: the test sources
   * compile without the incubating module, on which javac warns.
   */
  private static int preferredDoubleVectorBits() throws ReflectiveOperationException {
    assertThat(ModuleLayer.boot().findModule("jdk.incubator.vector")).as("Surefire adds the Vector API module").isPresent();
    Object species = Class.forName("jdk.incubator.vector.DoubleVector").getField("SPECIES_PREFERRED").get(null);
    return (int) Class.forName("jdk.incubator.vector.VectorSpecies").getMethod("vectorBitSize").invoke(species);
  }
}
