package dev.lb.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lb.config.ListenConfig.TransportChoice;
import io.netty.channel.EventLoopGroup;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/** Which transport a configuration gets, what each can do, and that each available one makes working loops. */
class TransportTest {

  private static boolean forced() {
    return !System.getProperty("lb.transport", "").isEmpty();
  }

  @Test
  void nioIsAlwaysThereAndAutoPicksTheBestAvailable() {
    List<Transport> available = Transport.available();
    assertThat(available).last().isSameAs(Transport.nio());
    if (!forced()) {
      assertThat(Transport.select(TransportChoice.AUTO)).isSameAs(available.get(0));
      assertThat(Transport.select(TransportChoice.NIO)).isSameAs(Transport.nio());
    }
    assertThat(Transport.nio().reusePort()).isFalse();
    assertThat(Transport.nio().name()).isEqualTo("nio");
  }

  @Test
  @EnabledOnOs(OS.LINUX)
  void onLinuxEpollAndIoUringShareAPortWithSoReusePort() {
    for (Transport t : Transport.available()) {
      assertThat(t.reusePort()).as(t.name()).isEqualTo(!t.name().equals("nio"));
    }
  }

  @Test
  void everyAvailableTransportMakesEventLoops() throws Exception {
    for (Transport t : Transport.available()) {
      EventLoopGroup group = t.newGroup(1, "transport-test-" + t.name());
      try {
        assertThat(group.submit(() -> 42).get(5, TimeUnit.SECONDS)).isEqualTo(42);
      } finally {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
      }
    }
  }

  @Test
  void anExplicitChoiceRunsOrSaysWhyItCannot() {
    if (forced()) {
      return;
    }
    for (TransportChoice choice : new TransportChoice[] {TransportChoice.IO_URING, TransportChoice.EPOLL}) {
      boolean here = Transport.available().stream().anyMatch(t -> t.name().equals(choice.key()));
      if (here) {
        assertThat(Transport.select(choice).name()).isEqualTo(choice.key());
      } else {
        assertThatThrownBy(() -> Transport.select(choice)).isInstanceOf(IllegalStateException.class)
            .hasMessageStartingWith("transport " + choice.key() + " is not available here: ");
      }
    }
  }
}
