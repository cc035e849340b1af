package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LargeStackTest {

  @Test
  void outOfMemoryOnTheGraphThreadReachesTheCallerAsItself() {
    OutOfMemoryError oom = new OutOfMemoryError("Java heap space");

    assertThatThrownBy(() -> LargeStack.call(() -> {
      throw oom;
    })).isSameAs(oom);
  }
}
