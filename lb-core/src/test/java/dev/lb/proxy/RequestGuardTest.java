package dev.lb.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RequestGuardTest {
  private EmbeddedChannel ch;

  private EmbeddedChannel channel(long maxBodySize) {
    return channel(TestSettings.settings(maxBodySize));
  }

  private EmbeddedChannel channel(ProxySettings settings) {
    ch = new EmbeddedChannel();
    ch.freezeTime();
    HttpDecoderConfig config = new HttpDecoderConfig()
        .setMaxInitialLineLength(ProxySettings.MAX_REQUEST_LINE)
        .setMaxHeaderSize(8192)
        .setMaxChunkSize(ProxyInitializer.MAX_CHUNK);
    ch.pipeline().addLast(new HttpServerCodec(config), new RequestGuard(settings));
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

  private void advance(long millis) {
    ch.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
  }

  private HttpResponseStatus rejectionOf(String request) {
    channel(1000);
    ch.writeInbound(ascii(request));
    List<Object> in = drainInbound();
    assertThat(in).isNotEmpty();
    assertThat(in.get(0)).isInstanceOf(RejectedRequest.class);
    RejectedRequest rejected = (RejectedRequest) in.get(0);
    assertThat(rejected.close()).isTrue();
    assertThat(in).hasSize(1);
    return rejected.status();
  }

  @Test
  void aValidRequestPassesWhole() {
    channel(0);
    ByteBuf raw = ascii("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
    ch.writeInbound(raw);
    HttpRequest req = ch.readInbound();
    assertThat(req).isNotInstanceOf(RejectedRequest.class);
    assertThat(req.uri()).isEqualTo("/up");
    HttpContent body = ch.readInbound();
    assertThat(body).isInstanceOf(LastHttpContent.class);
    assertThat(body.content().toString(US_ASCII)).isEqualTo("hello");
    body.release();
    assertThat(body.refCnt()).isZero();
    assertThat(raw.refCnt()).isZero();
    assertThat(ch.isOpen()).isTrue();
  }

  @Test
  void missingHostOnHttp11IsRefused() {
    assertThat(rejectionOf("GET / HTTP/1.1\r\n\r\n")).isEqualTo(HttpResponseStatus.BAD_REQUEST);
  }

  @Test
  void missingHostOnHttp10Passes() {
    channel(0);
    ch.writeInbound(ascii("GET / HTTP/1.0\r\n\r\n"));
    assertThat(drainInbound()).first().isNotInstanceOf(RejectedRequest.class);
  }

  @Test
  void duplicateHostIsRefused() {
    assertThat(rejectionOf("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"))
        .isEqualTo(HttpResponseStatus.BAD_REQUEST);
  }

  @Test
  void transferEncodingOnHttp10IsRefused() {
    assertThat(rejectionOf("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"))
        .isEqualTo(HttpResponseStatus.BAD_REQUEST);
  }

  @Test
  void connectIsNotAllowed() {
    assertThat(rejectionOf("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"))
        .isEqualTo(HttpResponseStatus.METHOD_NOT_ALLOWED);
  }

  @Test
  void anOverlongRequestLineIs414() {
    String target = "/" + "a".repeat(ProxySettings.MAX_REQUEST_LINE);
    assertThat(rejectionOf("GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n"))
        .isEqualTo(HttpResponseStatus.REQUEST_URI_TOO_LONG);
  }

  @Test
  void anOverlongHeadIs431() {
    String big = "X-Big: " + "b".repeat(9000) + "\r\n";
    assertThat(rejectionOf("GET / HTTP/1.1\r\nHost: a\r\n" + big + "\r\n"))
        .isEqualTo(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE);
  }

  @Test
  void malformedRequestLineIs400() {
    assertThat(rejectionOf("GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n")).isEqualTo(HttpResponseStatus.BAD_REQUEST);
  }

  @Test
  void contentLengthPlusChunkedIsRefused() {
    assertThat(rejectionOf(
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"))
        .isEqualTo(HttpResponseStatus.BAD_REQUEST);
  }

  @Test
  void declaredBodyOverTheLimitIs413BeforeAnyOfItIsRead() {
    channel(10);
    ch.writeInbound(ascii("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world"));
    List<Object> in = drainInbound();
    assertThat(in).hasSize(1);
    assertThat(((RejectedRequest) in.get(0)).status()).isEqualTo(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE);
  }

  @Test
  void chunkedBodyOverTheLimitIsRejectedMidStream() {
    channel(10);
    ch.writeInbound(ascii("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n"));
    assertThat(drainInbound()).hasSize(2);
    ByteBuf more = ascii("6\r\nworld!\r\n0\r\n\r\n");
    assertThatThrownBy(() -> ch.writeInbound(more))
        .isInstanceOfSatisfying(RequestRejectedException.class,
            e -> assertThat(e.status()).isEqualTo(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE));
    assertThat(more.refCnt()).isZero();
    assertThat(drainInbound()).isEmpty();
    ByteBuf later = ascii("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    ch.writeInbound(later);
    assertThat(later.refCnt()).isZero();
    assertThat(drainInbound()).isEmpty();
  }

  @Test
  void malformedChunkIsRejectedMidStream() {
    channel(0);
    assertThatThrownBy(() -> ch.writeInbound(
            ascii("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n")))
        .isInstanceOfSatisfying(RequestRejectedException.class,
            e -> assertThat(e.status()).isEqualTo(HttpResponseStatus.BAD_REQUEST));
    List<Object> in = drainInbound();
    assertThat(in).hasSize(1);
    assertThat(in.get(0)).isInstanceOf(HttpRequest.class);
  }

  @Test
  void malformedContentLengthsAreRefusedWithOrWithoutABodyLimit() {
    for (String length : List.of("0x3", "3, 3", "3, 4", "3.0", "", "abc", "3a", "1 2", "-3", "+3",
        "99999999999999999999999", "18446744073709551619")) {
      String request = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + length + "\r\n\r\nabc";
      for (long maxBody : new long[] {0, 1000}) {
        channel(maxBody);
        ch.writeInbound(ascii(request));
        List<Object> in = drainInbound();
        assertThat(in).as("%s (max body %s)", length, maxBody).hasSize(1);
        assertThat(in.get(0)).as("%s (max body %s)", length, maxBody).isInstanceOf(RejectedRequest.class);
        assertThat(((RejectedRequest) in.get(0)).status()).isEqualTo(HttpResponseStatus.BAD_REQUEST);
        assertThat(RequestSyntax.contentLength(((RejectedRequest) in.get(0)).headers()))
            .as("what is left of the length of a refused request can be read")
            .isNotEqualTo(RequestSyntax.INVALID_LENGTH);
        ch.finishAndReleaseAll();
        ch = null;
      }
    }
  }

  @Test
  void moreThanTheFieldCountLimitIs431() {
    String fields = "X-F: 1\r\n".repeat(ProxySettings.MAX_HEADER_COUNT - 1);
    channel(0);
    ch.writeInbound(ascii("GET / HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n"));
    assertThat(drainInbound()).first().isNotInstanceOf(RejectedRequest.class);
    ch.finishAndReleaseAll();
    assertThat(rejectionOf("GET / HTTP/1.1\r\nHost: a\r\n" + fields + "X-One-More: 1\r\n\r\n"))
        .isEqualTo(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE);
  }

  @Test
  void aHostThatIsNoAuthorityIsRefused() {
    for (String host : List.of("a.example, b.example", "a b", "lb/evil", "user@lb", "lb?x", "lb#x", "lb\\x")) {
      assertThat(rejectionOf("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n")).as(host)
          .isEqualTo(HttpResponseStatus.BAD_REQUEST);
      ch.finishAndReleaseAll();
      ch = null;
    }
  }

  @Test
  void anAsteriskTargetIsForOptionsOnly() {
    assertThat(rejectionOf("GET * HTTP/1.1\r\nHost: a\r\n\r\n")).isEqualTo(HttpResponseStatus.BAD_REQUEST);
  }

  @Test
  void anAbsoluteFormTargetMustNameTheHostFieldsAuthority() {
    assertThat(rejectionOf("GET http://other/a HTTP/1.1\r\nHost: lb\r\n\r\n"))
        .isEqualTo(HttpResponseStatus.BAD_REQUEST);
  }

  @Test
  void framingFieldsGoOnInTheirPlainSpelling() {
    channel(0);
    ch.writeInbound(ascii("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0003\r\n\r\nabc"));
    HttpRequest fixed = ch.readInbound();
    assertThat(fixed.headers().getAll(HttpHeaderNames.CONTENT_LENGTH)).containsExactly("3");
    drainInbound();
    ch.writeInbound(ascii("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , ChUnKeD\r\n\r\n0\r\n\r\n"));
    HttpRequest chunked = ch.readInbound();
    assertThat(chunked.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING)).containsExactly("chunked");
    drainInbound();
    ch.writeInbound(ascii("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: GZIP\r\n"
        + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
    HttpRequest two = ch.readInbound();
    assertThat(two.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING)).containsExactly("gzip, chunked");
    drainInbound();
  }

  @Test
  void theGuardAloneKeepsNoTimers() {
    channel(0);
    assertThat(ch.runScheduledPendingTasks()).as("nothing scheduled at the connection's start").isEqualTo(-1);
    ch.writeInbound(ascii("GET / HTTP/1.1\r\n"));
    advance(TestSettings.IDLE_TIMEOUT_MS * 3);
    assertThat(ch.isOpen()).as("timeouts are ClientTimeouts' job").isTrue();
    assertThat(dev.lb.testing.Outbound.drain(ch)).isEmpty();
  }

  @Test
  void afterARefusalEverythingReadIsDiscarded() {
    channel(0);
    ch.writeInbound(ascii("GET / HTTP/1.1\r\n\r\n"));
    drainInbound();
    ByteBuf next = ascii("GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
    ch.writeInbound(next);
    assertThat(next.refCnt()).isZero();
    assertThat(drainInbound()).isEmpty();
  }
}
