package dev.lb.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lb.transport.Transport;
import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proves that a blocking call on an event loop is caught: the build's promise that no event-loop thread blocks rests
 * on this. The loops are lb's own, made as the balancer makes them, on every transport this machine has.
 */
class BlockingFailExtensionTest {

  @Test
  void aSleepOnAnEventLoopIsReported() throws Exception {
    for (Transport transport : Transport.available()) {
      EventLoopGroup group = transport.newGroup(1, "lb-worker");
      try {
        group.submit(() -> sleepOneMillisecond()).get(5, TimeUnit.SECONDS);
      } finally {
        group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
      }
      assertThatThrownBy(() -> BlockingFailExtension.check("this test"))
          .as(transport.name())
          .isInstanceOf(AssertionError.class)
          .hasMessageContaining("java.lang.Thread.sleep")
          .hasMessageContaining("on thread lb-worker-")
          .hasMessageContaining("sleepOneMillisecond");
    }
  }

  @Test
  void aHostNameLookedUpOnAnEventLoopIsReported() throws Exception {
    EventLoopGroup group = Transport.nio().newGroup(1, "lb-worker");
    try {
      group.submit(() -> InetAddress.getByName("localhost")).get(5, TimeUnit.SECONDS);
      group.submit(() -> InetAddress.getByName("127.0.0.1")).get(5, TimeUnit.SECONDS); // a literal: no lookup
    } finally {
      group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
    }
    assertThatThrownBy(() -> BlockingFailExtension.check("this test"))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("java.net.InetAddress.getAllByName0")
        .hasMessageContaining("on thread lb-worker-")
        .satisfies(e -> assertThat(e.getMessage().split("blocking call ", -1)).hasSize(2));
  }

  @Test
  void aFileReadOnAnEventLoopIsReported(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("a.txt"), "a");
    EventLoopGroup group = Transport.nio().newGroup(1, "lb-worker");
    try {
      group.submit(() -> Files.readString(file)).get(5, TimeUnit.SECONDS);
    } finally {
      group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
    }
    assertThatThrownBy(() -> BlockingFailExtension.check("this test"))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("sun.nio.ch.FileChannelImpl.read")
        .hasMessageContaining("on thread lb-worker-");
  }

  @Test
  void aSleepElsewhereIsNot() throws Exception {
    Thread.sleep(1);
    Thread plain = new Thread(BlockingFailExtensionTest::sleepOneMillisecond, "lb-not-a-loop");
    plain.start();
    plain.join();
    BlockingFailExtension.check("this test");
  }

  private static void sleepOneMillisecond() {
    try {
      Thread.sleep(1);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
