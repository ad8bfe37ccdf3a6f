package dev.lb.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lb.testing.EmbeddedDuplexChannel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The client connection's timers, behind the guard as {@link ProxyInitializer} places them; the test plays the
 * balancing handler (reads what goes on, writes the responses).
 */
class ClientTimeoutsTest {
  private EmbeddedChannel ch;

  private EmbeddedChannel channel(long maxBodySize) {
    return channel(TestSettings.settings(maxBodySize));
  }

  private EmbeddedChannel channel(ProxySettings settings) {
    return channel(settings, new EmbeddedChannel());
  }

  private EmbeddedChannel channel(ProxySettings settings, EmbeddedChannel fresh) {
    ch = fresh;
    ch.freezeTime();
    HttpDecoderConfig config = new HttpDecoderConfig()
        .setMaxInitialLineLength(ProxySettings.MAX_REQUEST_LINE)
        .setMaxHeaderSize(8192)
        .setMaxChunkSize(ProxyInitializer.MAX_CHUNK);
    ch.pipeline()
        .addLast(HandlerNames.SERVER_CODEC, new HttpServerCodec(config))
        .addLast(HandlerNames.GUARD, new RequestGuard(settings))
        .addLast(HandlerNames.TIMEOUTS, new ClientTimeouts(settings));
    return ch;
  }

  @AfterEach
  void finish() {
    if (ch != null) {
      ch.finishAndReleaseAll();
    }
  }

  private static ByteBuf ascii(String s) {
    return Unpooled.copiedBuffer(s, US_ASCII);
  }

  /** Reads every inbound message, releasing each, and returns what they were. */
  private List<Object> drainInbound() {
    List<Object> out = new ArrayList<>();
    for (Object m; (m = ch.readInbound()) != null; ) {
      out.add(m);
      ReferenceCountUtil.release(m);
    }
    return out;
  }

  private String drainOutbound() {
    return dev.lb.testing.Outbound.drain(ch);
  }

  private void advance(long millis) {
    ch.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
  }

  @Test
  void aSilentNewConnectionIsClosedWithoutAnswerAfterTheHeaderTimeout() {
    channel(0);
    advance(TestSettings.HEADER_TIMEOUT_MS - 1);
    assertThat(ch.isOpen()).isTrue();
    advance(1);
    assertThat(ch.isOpen()).isFalse();
    assertThat(drainOutbound()).isEmpty();
  }

  @Test
  void aHeadTrickledTooSlowlyGets408AndIsClosed() {
    channel(0);
    advance(400);
    ch.writeInbound(ascii("GET / HTTP/1.1\r\n"));
    advance(400);
    ch.writeInbound(ascii("Host: a\r\n"));
    advance(199);
    assertThat(ch.isOpen()).isTrue();
    advance(1);
    String out = drainOutbound();
    assertThat(out).startsWith("HTTP/1.1 408 Request Timeout\r\n");
    assertThat(out).contains("connection: close").endsWith("{\"code\":408,\"message\":\"Request timeout\"}");
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void anIdleKeepAliveConnectionClosesAfterTheIdleTimeoutNotTheHeaderTimeout() {
    channel(0);
    ch.writeInbound(ascii("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    drainInbound();
    ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
    drainOutbound();
    advance(TestSettings.IDLE_TIMEOUT_MS - 1);
    assertThat(ch.isOpen()).isTrue();
    advance(1);
    assertThat(ch.isOpen()).isFalse();
    assertThat(drainOutbound()).isEmpty();
  }

  @Test
  void anIdleTimeoutShorterThanTheHeaderTimeoutStillApplies() {
    channel(TestSettings.settings(0, 300));
    ch.writeInbound(ascii("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    drainInbound();
    ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
    drainOutbound();
    advance(299);
    assertThat(ch.isOpen()).isTrue();
    advance(1);
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void aBodyStalledLongerThanAShortIdleTimeoutIsCutBeforeTheHeaderTimeout() {
    channel(TestSettings.settings(0, 300));
    ch.writeInbound(ascii("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc"));
    drainInbound();
    advance(300);
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void theHeadClockOfAKeepAliveRequestStartsAtItsFirstByte() {
    channel(0);
    ch.writeInbound(ascii("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    drainInbound();
    ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
    drainOutbound();
    advance(3_000);
    ch.writeInbound(ascii("GET /second HTTP/1.1\r\n"));
    advance(TestSettings.HEADER_TIMEOUT_MS - 1);
    assertThat(ch.isOpen()).isTrue();
    advance(1);
    assertThat(drainOutbound()).startsWith("HTTP/1.1 408 ");
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void waitingForTheBackendIsNotIdle() {
    channel(0);
    ch.writeInbound(ascii("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    drainInbound();
    advance(TestSettings.IDLE_TIMEOUT_MS * 3);
    assertThat(ch.isOpen()).isTrue();
  }

  @Test
  void aStalledRequestBodyIsCutAfterTheIdleTimeout() {
    channel(0);
    ch.writeInbound(ascii("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc"));
    drainInbound();
    advance(TestSettings.IDLE_TIMEOUT_MS - 1);
    ch.writeInbound(ascii("def"));
    drainInbound();
    advance(TestSettings.IDLE_TIMEOUT_MS - 1);
    assertThat(ch.isOpen()).isTrue();
    advance(1);
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void aStalledResponseBodyIsCutAfterTheIdleTimeout() {
    channel(0);
    ch.writeInbound(ascii("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    drainInbound();
    DefaultHttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    head.headers().set(HttpHeaderNames.CONTENT_LENGTH, 100);
    ch.writeOutbound(head);
    drainOutbound();
    advance(TestSettings.IDLE_TIMEOUT_MS);
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void informationalResponsesDoNotEndTheExchange() {
    channel(0);
    ch.writeInbound(ascii("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"));
    drainInbound();
    ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
    assertThat(drainOutbound()).startsWith("HTTP/1.1 100 Continue");
    ch.writeInbound(ascii("abc"));
    drainInbound();
    // Still waiting for the final response: the idle timer must not treat the connection as idle.
    advance(TestSettings.IDLE_TIMEOUT_MS * 2);
    assertThat(ch.isOpen()).isTrue();
  }

  @Test
  void afterARefusalBytesThatTrickleInStartNoHeadClock() {
    channel(0);
    ch.writeInbound(ascii("GET / HTTP/1.1\r\n\r\n"));
    assertThat(drainInbound()).singleElement().isInstanceOf(RejectedRequest.class);
    ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_REQUEST));
    drainOutbound();
    ch.writeInbound(ascii("GET /next HT"));
    advance(TestSettings.HEADER_TIMEOUT_MS);
    assertThat(ch.isOpen()).isTrue();
    assertThat(drainOutbound()).as("no 408 after a refusal").isEmpty();
    advance(TestSettings.IDLE_TIMEOUT_MS - TestSettings.HEADER_TIMEOUT_MS);
    assertThat(ch.isOpen()).as("closed as an idle connection").isFalse();
    assertThat(drainOutbound()).isEmpty();
  }

  @Test
  void aRejectedBodyPassesOnItsVerdictAndStartsNoHeadClock() {
    channel(10);
    ch.writeInbound(ascii("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"));
    drainInbound();
    advance(TestSettings.IDLE_TIMEOUT_MS - 1);
    assertThatThrownBy(() -> ch.writeInbound(ascii("b\r\nhello world\r\n")))
        .isInstanceOf(RequestRejectedException.class);
    ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE));
    drainOutbound();
    ch.writeInbound(ascii("GET /next HT"));
    advance(TestSettings.HEADER_TIMEOUT_MS);
    assertThat(ch.isOpen()).isTrue();
    assertThat(drainOutbound()).as("no 408 after a rejected body").isEmpty();
    assertThat(drainInbound()).isEmpty();
  }

  @Test
  void aRejectedBodyCountsAsActivity() {
    channel(10);
    ch.writeInbound(ascii("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"));
    drainInbound();
    advance(TestSettings.IDLE_TIMEOUT_MS - 1);
    assertThatThrownBy(() -> ch.writeInbound(ascii("b\r\nhello world\r\n")))
        .isInstanceOf(RequestRejectedException.class);
    advance(TestSettings.IDLE_TIMEOUT_MS - 1);
    assertThat(ch.isOpen()).as("the rejected part arrived: the body had not stalled").isTrue();
    advance(1);
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void afterThe408NothingReadGoesOn() {
    // A socket, so that the 408 lingers (briefly) instead of closing at once.
    channel(TestSettings.settings(0), new EmbeddedDuplexChannel());
    ch.writeInbound(ascii("GET / HTTP/1.1\r\nHost: a\r\n"));
    advance(TestSettings.HEADER_TIMEOUT_MS);
    assertThat(drainOutbound()).startsWith("HTTP/1.1 408 ");
    assertThat(((EmbeddedDuplexChannel) ch).isOutputShutdown()).isTrue();
    // A read that was already under way when the 408 went out, and the guard's verdict on it.
    HttpContent late = new DefaultHttpContent(ascii("late"));
    ch.pipeline().context(HandlerNames.GUARD).fireChannelRead(late);
    ch.pipeline().context(HandlerNames.GUARD)
        .fireExceptionCaught(new RequestRejectedException(HttpResponseStatus.BAD_REQUEST, "late"));
    assertThat(late.refCnt()).isZero();
    assertThat(drainInbound()).isEmpty();
    ch.checkException();
  }

  @Test
  void leavingThePipelineCancelsTheTimer() {
    channel(0);
    ch.pipeline().remove(HandlerNames.TIMEOUTS);
    assertThat(ch.runScheduledPendingTasks()).isEqualTo(-1);
    advance(TestSettings.IDLE_TIMEOUT_MS * 2);
    assertThat(ch.isOpen()).isTrue();
  }

  @Test
  void aClosedConnectionLeavesNoTimer() {
    channel(0);
    ch.writeInbound(ascii("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    drainInbound();
    ch.close();
    assertThat(ch.runScheduledPendingTasks()).isEqualTo(-1);
  }

  @Test
  void aReloadAppliesToTheNextTimeout() {
    ProxySettings[] current = {TestSettings.settings(0)};
    ch = new EmbeddedChannel();
    ch.freezeTime();
    ch.pipeline()
        .addLast(HandlerNames.SERVER_CODEC, new HttpServerCodec())
        .addLast(HandlerNames.GUARD, new RequestGuard(() -> current[0]))
        .addLast(HandlerNames.TIMEOUTS, new ClientTimeouts(() -> current[0]));
    ch.writeInbound(ascii("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    drainInbound();
    current[0] = TestSettings.settings(0, 300);
    ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
    drainOutbound();
    advance(TestSettings.HEADER_TIMEOUT_MS);
    assertThat(ch.isOpen()).as("the timer fired at the old deadline and read the new idle timeout").isFalse();
  }
}
