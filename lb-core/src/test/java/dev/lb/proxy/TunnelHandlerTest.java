package dev.lb.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.backend.Backend;
import dev.lb.config.BackendConfig;
import dev.lb.pool.BackendConnection;
import dev.lb.pool.EmbeddedPool;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A tunnel between lb's real client pipeline and a backend connection with the real backend pipeline. */
class TunnelHandlerTest {
  private final Backend backend = new Backend(new BackendConfig("http://127.0.0.1:8081", "127.0.0.1", 8081, 1));
  private final EmbeddedPool pool = new EmbeddedPool();
  private final List<ByteBuf> sent = new ArrayList<>();
  private EmbeddedChannel client;
  private EmbeddedChannel server;

  @BeforeEach
  void tunnel() {
    client = EmbeddedClients.open(TestSettings.context(backend), pool);
    pool.connect(backend);
    server = pool.last();
    server.freezeTime();
    TunnelHandler.install(client, BackendConnection.of(server), TimeUnit.MILLISECONDS.toNanos(
        TestSettings.IDLE_TIMEOUT_MS));
  }

  @AfterEach
  void finish() {
    client.finishAndReleaseAll();
    pool.finishAll();
    for (ByteBuf b : sent) {
      assertThat(b.refCnt()).as("every buffer relayed is released").isZero();
    }
  }

  private ByteBuf bytes(String s) {
    ByteBuf b = Unpooled.copiedBuffer(s, US_ASCII);
    sent.add(b);
    return b;
  }

  /** What was written to {@code ch}, each buffer released. */
  private static String written(EmbeddedChannel ch) {
    return dev.lb.testing.Outbound.drain(ch);
  }

  @Test
  void installLeavesOnlyTheRelaysAndTheIdleTimer() {
    assertThat(client.pipeline().names()).containsSubsequence(HandlerNames.TUNNEL_IDLE, HandlerNames.TUNNEL)
        .doesNotContain(HandlerNames.SERVER_CODEC, HandlerNames.GUARD, HandlerNames.TIMEOUTS,
            HandlerNames.RATE_LIMIT, HandlerNames.PROXY);
    assertThat(server.pipeline().names()).contains(HandlerNames.TUNNEL)
        .doesNotContain(HandlerNames.CLIENT_CODEC, HandlerNames.BACKEND);
    assertThat(client.config().isAutoRead()).isTrue();
    assertThat(server.config().isAutoRead()).isTrue();
  }

  @Test
  void bytesGoEachWayAsTheyAreWithoutHttpFraming() {
    ByteBuf up = bytes("\u0081\u0085frame GET / HTTP/1.1\r\n\r\n");
    client.writeInbound(up);
    assertThat(written(server)).isEqualTo("\u0081\u0085frame GET / HTTP/1.1\r\n\r\n");
    ByteBuf down = bytes("\u0081\u0002hi");
    server.writeInbound(down);
    assertThat(written(client)).isEqualTo("\u0081\u0002hi");
    assertThat(up.refCnt()).isZero();
    assertThat(down.refCnt()).isZero();
    assertThat(client.isOpen()).isTrue();
    assertThat(server.isOpen()).isTrue();
  }

  @Test
  void whatIsNoBufferIsReleasedNotRelayed() {
    HttpContent stray = new DefaultHttpContent(bytes("the codec's last message"));
    // Delivered to the relay by the handler before it, as a read would be.
    client.pipeline().context(HandlerNames.TUNNEL_IDLE).fireChannelRead(stray);
    assertThat(stray.refCnt()).isZero();
    assertThat(server.outboundMessages()).isEmpty();
  }

  @Test
  void aSideThatCannotTakeMoreStopsTheOtherFromReadingUntilItDrains() {
    server.config().setWriteBufferWaterMark(new WriteBufferWaterMark(4, 8));
    client.pipeline().fireChannelRead(bytes("more than eight bytes"));
    assertThat(client.config().isAutoRead()).as("the backend cannot take more: stop reading the client").isFalse();
    client.pipeline().fireChannelReadComplete();
    server.runPendingTasks();
    assertThat(written(server)).isEqualTo("more than eight bytes");
    assertThat(client.config().isAutoRead()).as("flushed: read again").isTrue();
  }

  @Test
  void whenOneSideClosesTheOtherIsClosedAfterItsLastBytes() {
    server.writeInbound(bytes("bye"));
    server.close();
    client.runPendingTasks();
    assertThat(written(client)).isEqualTo("bye");
    assertThat(client.isOpen()).isFalse();
  }

  @Test
  void anIdleTunnelIsClosed() {
    client.advanceTimeBy(TestSettings.IDLE_TIMEOUT_MS - 1, TimeUnit.MILLISECONDS);
    client.runScheduledPendingTasks();
    assertThat(client.isOpen()).isTrue();
    client.advanceTimeBy(1, TimeUnit.MILLISECONDS);
    client.runScheduledPendingTasks();
    assertThat(client.isOpen()).isFalse();
    server.runPendingTasks();
    assertThat(server.isOpen()).as("and with it the backend side").isFalse();
  }

  @Test
  void anErrorClosesBothSides() {
    server.pipeline().fireExceptionCaught(new IOException("Connection reset by peer"));
    assertThat(server.isOpen()).isFalse();
    client.runPendingTasks();
    assertThat(client.isOpen()).isFalse();
    server.checkException();
  }
}
