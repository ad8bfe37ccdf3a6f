package dev.lb.health.probe;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.transport.FailureReasons;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The health probe's handler: what it reports for each answer, and that it keeps nothing it read. */
class ProbeHandlerTest {
  private final List<String> reports = new ArrayList<>();
  private final List<ByteBuf> sent = new ArrayList<>();
  private EmbeddedChannel ch;

  @BeforeEach
  void open() {
    ch = new EmbeddedChannel(new HttpClientCodec(),
        new ActiveHealthChecker.ProbeHandler((passed, result) -> reports.add((passed ? "pass " : "fail ") + result)));
    // The probe's request, as the checker sends it: the codec pairs the response with it.
    ch.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/health"));
    for (Object m; (m = ch.readOutbound()) != null; ) {
      ReferenceCountUtil.release(m);
    }
  }

  @AfterEach
  void finish() {
    assertThat(ch.finishAndReleaseAll()).as("nothing read goes past the probe's handler").isFalse();
    for (ByteBuf b : sent) {
      assertThat(b.refCnt()).as("every buffer read is released").isZero();
    }
  }

  private void respond(String raw) {
    ByteBuf b = Unpooled.copiedBuffer(raw, US_ASCII);
    sent.add(b);
    ch.writeInbound(b);
  }

  @Test
  void a2xxOr3xxAnswerPasses() {
    respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assertThat(reports).containsExactly("pass status 200");
    finish();
    open();
    respond("HTTP/1.1 301 Moved Permanently\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n");
    assertThat(reports).endsWith("pass status 301");
  }

  @Test
  void a4xxOr5xxAnswerFails() {
    respond("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy");
    assertThat(reports).containsExactly("fail status 503");
    finish();
    open();
    respond("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    assertThat(reports).endsWith("fail status 404");
  }

  @Test
  void anInterimAnswerIsSkippedForTheFinalOne() {
    respond("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
    assertThat(reports).containsExactly("pass status 204");
  }

  @Test
  void aBodyIsReadAndReleasedWithoutAnotherReport() {
    respond("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    respond("6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
    assertThat(reports).containsExactly("pass status 200");
    assertThat(ch.inboundMessages()).isEmpty();
  }

  @Test
  void aMalformedAnswerFails() {
    respond("NOT HTTP AT ALL\r\n\r\n");
    assertThat(reports).containsExactly("fail bad response");
  }

  @Test
  void aCloseBeforeAnyAnswerFails() {
    ch.close();
    assertThat(reports).containsExactly("fail connection closed before a response");
  }

  @Test
  void anErrorFailsWithItsDescription() {
    IOException reset = new IOException("Connection reset by peer");
    ch.pipeline().fireExceptionCaught(reset);
    assertThat(reports).containsExactly("fail " + FailureReasons.describe(reset));
  }
}
