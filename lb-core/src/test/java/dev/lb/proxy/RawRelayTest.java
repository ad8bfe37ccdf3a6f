package dev.lb.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.backend.Backend;
import dev.lb.config.BackendConfig;
import dev.lb.log.AccessLog;
import dev.lb.log.AccessLogMessage;
import dev.lb.pool.EmbeddedPool;
import dev.lb.pool.LoopPool;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Relaying a response head as its bytes gives the client exactly what decoding and encoding it gives: each case runs
 * through the whole client pipeline twice, once with the backend codec relaying plain heads as bytes and once
 * decoding every head, and the client must receive the same bytes, the backend connection must end the same way,
 * and the access log must say the same. The cases cover heads the byte relay takes and heads it leaves to the
 * decoder.
 */
class RawRelayTest {
  private static final String GET = "GET /a HTTP/1.1\r\nHost: a\r\nX-Request-Id: fixed-id-1\r\n\r\n";
  private static final String HEAD = "HEAD /a HTTP/1.1\r\nHost: a\r\nX-Request-Id: fixed-id-1\r\n\r\n";
  private static final String GET10 = "GET /a HTTP/1.0\r\nHost: a\r\nX-Request-Id: fixed-id-1\r\n\r\n";
  private static final String GET10_KEEP = "GET /a HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n"
      + "X-Request-Id: fixed-id-1\r\n\r\n";
  private static final String GET_CLOSE = "GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
      + "X-Request-Id: fixed-id-1\r\n\r\n";

  static Stream<Arguments> cases() {
    List<String> responses = List.of(
        // Taken as bytes.
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
        "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 06 Dec 2026 12:00:00 GMT\r\n"
            + "Content-Type: text/plain\r\nContent-Length: 5\r\nConnection: keep-alive\r\n"
            + "Keep-Alive: timeout=5\r\nETag: \"abc\"\r\n\r\nhello",
        "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\nX-Request-Id: from-backend\r\n\r\nnope",
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nUpgrade: h2c\r\nTE: trailers\r\n"
            + "Proxy-Connection: keep-alive\r\nconnection: CLOSE\r\n\r\ndown",
        "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc",
        "HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 301 Moved Permanently\r\nLocation: http://a/b\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 Fine Thank You\r\ncontent-length: 1\r\nX-Empty:\r\nX-Tab:\tv\r\n\r\nx",
        // Chunked, taken as bytes for HTTP/1.1 clients (the decoder's for HTTP/1.0 ones).
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/plain\r\ntransfer-encoding: Chunked\r\n"
            + "Connection: keep-alive\r\n\r\n5\r\nhello\r\n1;ext=1\r\n \r\n10\r\n0123456789abcdef\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n2\r\nhi\r\n0\r\n"
            + "X-Checksum: c1\r\nContent-Length: 99\r\nSet-Cookie: a=b\r\n\r\n",
        "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
        "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            + "4\r\nfail\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\nzz\r\n",
        // Left to the decoder.
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: X-Hop\r\nX-Hop: 1\r\n\r\nhi",
        "HTTP/1.1 204 No Content\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Folded: a\r\n b\r\n\r\nhi",
        "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nhi",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi",
        "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi",
        "HTTP/1.1 200 OK\r\nX-Bytes: caf\u00e9\r\nContent-Length: 2\r\n\r\nhi",
        "\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
        "HTTP/1.1 200 OK\r\n\r\nuntil the close");
    List<String> requests = List.of(GET, HEAD, GET10, GET10_KEEP, GET_CLOSE);
    List<Arguments> all = new ArrayList<>();
    for (String response : responses) {
      for (String request : requests) {
        all.add(Arguments.of(request, response, 0));
        all.add(Arguments.of(request, response, response.length() / 2));
      }
    }
    return all.stream();
  }

  @ParameterizedTest
  @MethodSource("cases")
  void theClientGetsTheSameBytesEitherWay(String request, String response, int splitAt) {
    Outcome raw = run(true, request, response, splitAt);
    Outcome decoded = run(false, request, response, splitAt);
    assertThat(normalized(raw.client)).isEqualTo(normalized(decoded.client));
    assertThat(raw.backendReused).isEqualTo(decoded.backendReused);
    assertThat(raw.clientOpen).isEqualTo(decoded.clientOpen);
    assertThat(raw.log).isEqualTo(decoded.log);
  }

  /**
   * The response with the optional whitespace around field values as the decoder leaves it (one SP after the colon,
   * none at the end): the byte relay passes the backend's own, which means the same (RFC 9110 5.5).
   */
  private static String normalized(String response) {
    int end = response.indexOf("\r\n\r\n");
    if (end < 0) {
      return response;
    }
    if (response.substring(0, end).toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked")) {
      response = dechunked(response, end + 4);
    }
    String head = response.substring(0, end + 2)
        .replaceAll("(?m)^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*", "$1: ")
        .replaceAll("[ \t]+\r\n", "\r\n");
    return head + response.substring(end + 2);
  }

  /**
   * The response with its chunked body as data and trailer lines: the byte relay keeps the backend's chunks, the
   * encoder makes one per piece read, which carry the same data. What does not parse is kept as it is.
   */
  private static String dechunked(String response, int bodyStart) {
    StringBuilder out = new StringBuilder(response.substring(0, bodyStart)).append("<data>");
    int at = bodyStart;
    while (true) {
      int lf = response.indexOf("\r\n", at);
      if (lf < 0) {
        return out.append("<unended>").append(response.substring(at)).toString();
      }
      String sizeText = response.substring(at, lf).split(";", 2)[0];
      int size;
      try {
        size = Integer.parseInt(sizeText, 16);
      } catch (NumberFormatException e) {
        return out.append("<bad>").append(response.substring(at)).toString();
      }
      if (size == 0) {
        return out.append("</data>").append(response.substring(lf + 2)).toString();
      }
      if (lf + 2 + size > response.length()) {
        return out.append(response, lf + 2, response.length()).append("<unended>").toString();
      }
      out.append(response, lf + 2, lf + 2 + size);
      at = lf + 2 + size + 2;
    }
  }

  private record Outcome(String client, boolean backendReused, boolean clientOpen, String log) {}

  private static Outcome run(boolean rawHeads, String request, String response, int splitAt) {
    Backend backend = new Backend(new BackendConfig("http://127.0.0.1:1", "127.0.0.1", 1, 1));
    EmbeddedPool pool = new EmbeddedPool().codecs(() -> LoopPool.newCodec(rawHeads));
    List<AccessLogMessage> logged = new ArrayList<>();
    AccessLog recording = new RecordingAccessLog(logged);
    ProxyContext context = new ProxyContext(TestSettings.settings(0), TestSettings.routing(backend), recording);
    EmbeddedChannel client = new EmbeddedChannel();
    client.freezeTime();
    client.pipeline()
        .addLast(HandlerNames.SERVER_CODEC, new FrontendCodec(new HttpDecoderConfig()))
        .addLast(HandlerNames.GUARD, new RequestGuard(context.settings()))
        .addLast(HandlerNames.PROXY, new ProxyHandler(context, pool));
    List<ByteBuf> sent = new ArrayList<>();
    try {
      sent.add(Unpooled.copiedBuffer(request, US_ASCII));
      client.writeInbound(sent.get(0));
      EmbeddedChannel b = pool.last();
      dev.lb.testing.Outbound.drain(b);
      byte[] bytes = response.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
      int cut = Math.min(splitAt, bytes.length);
      if (cut > 0) {
        ByteBuf first = Unpooled.wrappedBuffer(bytes, 0, cut);
        sent.add(first);
        b.writeInbound(first);
      }
      ByteBuf rest = Unpooled.wrappedBuffer(bytes, cut, bytes.length - cut);
      sent.add(rest);
      if (b.isOpen()) {
        b.writeInbound(rest);
      } else {
        rest.release();   // the first part was refused and the connection closed: nobody reads the rest
      }
      if (response.endsWith("until the close")) {
        b.close();
      }
      String out = dev.lb.testing.Outbound.drain(client);
      String log = logged.stream()
          .map(m -> m.getFormattedMessage().replaceAll("[\\d.]+ms", "")
              // Both paths say why they refused a malformed body, each in its decoder's words.
              .replaceAll("error=\"malformed chunked body: [^\"]*\"|error=\"Invalid character in chunk size\"",
                  "error=<malformed chunk size>"))
          .toList().toString();
      return new Outcome(out, pool.idleCount(backend) == 1, client.isOpen(), log);
    } finally {
      client.finishAndReleaseAll();
      pool.finishAll();
      for (ByteBuf buf : sent) {
        assertThat(buf.refCnt()).as("every buffer written in is released (raw heads: %s)", rawHeads).isZero();
      }
      assertThat(backend.activeRequests()).isZero();
    }
  }
}
