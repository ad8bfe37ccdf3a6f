package dev.lb.proxy;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.pool.RawRequest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which request heads are forwarded as bytes, what lb learns from them, and what the backend then receives. */
class RequestScannerTest {
  private static final String CURL = "GET /api/v1/items?id=7&x=%2F HTTP/1.1\r\nHost: example.com:8080\r\n"
      + "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";

  private final RequestScanner scanner = new RequestScanner();
  private final List<ByteBuf> buffers = new ArrayList<>();

  @AfterEach
  void tearDown() {
    for (ByteBuf b : buffers) {
      b.release(b.refCnt());
    }
  }

  private @Nullable RawRequest scan(String head) {
    return scan(head, 4096, 8192);
  }

  private @Nullable RawRequest scan(String head, int maxLine, int maxFields) {
    ByteBuf b = Unpooled.copiedBuffer(head, ISO_8859_1);
    buffers.add(b);
    int before = b.readerIndex();
    RawRequest raw = scanner.scan(b, maxLine, maxFields);
    assertThat(b.readerIndex()).as("the scan consumes nothing").isEqualTo(before);
    return raw;
  }

  private static String written(RawRequest raw) {
    ByteBuf out = Unpooled.buffer();
    raw.writeTo(out);
    String s = out.toString(US_ASCII);
    out.release();
    return s;
  }

  @Test
  void aPlainHeadIsTakenWithItsFacts() {
    RawRequest raw = scan(CURL + "GET /next HTTP/1.1\r\n");
    assertThat(scanner.outcome()).isEqualTo(RequestScanner.Outcome.HEAD);
    assertThat(raw).isNotNull();
    assertThat(raw.method()).isSameAs(HttpMethod.GET);
    assertThat(raw.uri()).isEqualTo("/api/v1/items?id=7&x=%2F");
    assertThat(raw.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
    assertThat(raw.keepAlive()).isTrue();
    assertThat(raw.headLength()).isEqualTo(CURL.length());
    assertThat(raw.host().toString()).isEqualTo("example.com:8080");
    assertThat(raw.get("user-agent").toString()).isEqualTo("curl/7.88.1");
    assertThat(raw.get("ACCEPT").toString()).isEqualTo("*/*");
    assertThat(raw.get("X-Absent")).isNull();
    assertThat(raw.decoded()).isFalse();
  }

  @Test
  void theBackendGetsTheReceivedLinesLessHopByHopOnesThenLbsFields() {
    RawRequest raw = scan("DELETE /x HTTP/1.1\r\nHost:  a.example \r\nConnection: keep-alive\r\nKeep-Alive: 5\r\n"
        + "TE: trailers\r\nProxy-Connection: x\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\n"
        + "X-Other:\tv \r\n\r\n");
    assertThat(raw).isNotNull();
    raw.forward(new AsciiString("id-1"), new AsciiString("10.0.0.9"));
    assertThat(written(raw)).isEqualTo("DELETE /x HTTP/1.1\r\nHost:  a.example \r\nX-Other:\tv \r\n"
        + "x-request-id: id-1\r\nx-forwarded-for: 10.0.0.9\r\nx-forwarded-proto: http\r\n"
        + "x-forwarded-host: a.example\r\n\r\n");
    assertThat(raw.get("x-forwarded-host").toString()).isEqualTo("a.example");
    assertThat(raw.get("X-Forwarded-Proto").toString()).isEqualTo("http");
    assertThat(raw.get("connection")).isNull();
    assertThat(raw.get("x-other").toString()).isEqualTo("v");
  }

  @Test
  void theMapMadeOnDemandIsTheOneTheDecoderAndTheRewriteWouldHaveMade() {
    RawRequest raw = scan("GET /x HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\nX-Forwarded-Host: evil\r\n"
        + "Accept: a\r\nAccept: b\r\n\r\n");
    assertThat(raw).isNotNull();
    assertThat(raw.keepAlive()).isTrue();
    assertThat(raw.getAll("accept")).containsExactly("a", "b");
    raw.forward(new AsciiString("id-2"), new AsciiString("10.0.0.9"));
    HttpHeaders h = raw.headers();
    assertThat(raw.decoded()).isTrue();
    assertThat(h.names()).containsExactlyInAnyOrder("Host", "Accept", "x-request-id", "x-forwarded-for",
        "x-forwarded-proto", "x-forwarded-host");
    assertThat(h.getAll("accept")).containsExactly("a", "b");
    assertThat(h.get("x-forwarded-host")).isEqualTo("a");
    assertThat(h.get("x-request-id")).isEqualTo("id-2");
  }

  @Test
  void closeAndVersionDecideKeepAlive() {
    assertThat(scan("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").keepAlive()).isFalse();
    assertThat(scan("GET / HTTP/1.0\r\nHost: a\r\n\r\n").keepAlive()).isFalse();
    assertThat(scan("GET / HTTP/1.0\r\nHost: a\r\nconnection: Keep-Alive\r\n\r\n").keepAlive()).isTrue();
    assertThat(scan("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n").keepAlive()).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {
    // Left to the decoder and the guard, which decide as before.
    "GET / HTTP/1.1\r\n\r\n",                                        // no Host
    "GET / HTTP/1.0\r\n\r\n",                                        // no Host (allowed, but not here)
    "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Hop\r\nX-Hop: 1\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: given\r\n\r\n",
    "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
    "PROPFIND / HTTP/1.1\r\nHost: a\r\n\r\n",
    "get / HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET /\t HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET /caf\u00e9 HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET / HTTP/1.2\r\nHost: a\r\n\r\n",
    "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
    "GET / http/1.1\r\nHost: a\r\n\r\n",
    "GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
    "GET / HTTP/1.1\nHost: a\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\n\n",
    "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    " GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nX-Bytes: caf\u00e9\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nX-Nul: a\u0000b\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\n: empty-name\r\n\r\n",
  })
  void anythingElseIsLeftToTheDecoder(String head) {
    assertThat(scan(head)).isNull();
    assertThat(scanner.outcome()).isEqualTo(RequestScanner.Outcome.DECLINED);
  }

  @Test
  void anIncompleteHeadWaitsWithinTheLimitsAndIsDeclinedPastThem() {
    for (int cut = 0; cut < CURL.length(); cut++) {
      assertThat(scan(CURL.substring(0, cut))).as("cut at %d", cut).isNull();
      assertThat(scanner.outcome()).as("cut at %d", cut).isEqualTo(RequestScanner.Outcome.MORE);
    }
    assertThat(scan(CURL, 20, 8192)).isNull();
    assertThat(scanner.outcome()).isEqualTo(RequestScanner.Outcome.DECLINED);
    assertThat(scan(CURL.substring(0, 30), 20, 8192)).isNull();
    assertThat(scanner.outcome()).as("a request line already past its limit").isEqualTo(
        RequestScanner.Outcome.DECLINED);
    assertThat(scan(CURL, 4096, 40)).isNull();
    assertThat(scanner.outcome()).isEqualTo(RequestScanner.Outcome.DECLINED);
  }

  @Test
  void atMostSixtyTwoFields() {
    StringBuilder head = new StringBuilder("GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 2; i <= RequestScanner.MAX_LINES; i++) {
      head.append("X-F").append(i).append(": v\r\n");
    }
    assertThat(scan(head + "\r\n")).isNotNull();
    assertThat(scan(head + "X-One-More: v\r\n\r\n")).isNull();
  }
}
