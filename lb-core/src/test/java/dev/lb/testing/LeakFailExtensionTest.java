package dev.lb.testing;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

/** Proves that a leaked buffer is caught: the build's promise that a leak fails it rests on this. */
class LeakFailExtensionTest {

  @Test
  void aLeakedBufferIsReported() {
    leakOne();
    assertThatThrownBy(() -> LeakFailExtension.check("this test"))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("LEAK")
        .hasMessageContaining("leakOne");
  }

  private static void leakOne() {
    ByteBuf leaked = PooledByteBufAllocator.DEFAULT.directBuffer(64);
    leaked.writeLong(42);
    leaked.touch("leakOne");
  }
}
