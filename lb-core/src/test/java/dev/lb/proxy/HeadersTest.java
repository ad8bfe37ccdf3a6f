package dev.lb.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Header rewriting, request ids and the canned error answers. */
class HeadersTest {
  private static final AsciiString CLIENT = AsciiString.cached("192.0.2.7");

  @Test
  void hopByHopHeadersAndTheOnesConnectionNamesAreRemoved() {
    HttpHeaders h = new DefaultHttpHeaders()
        .add("Host", "example.com")
        .add("Connection", "keep-alive, X-Private")
        .add("Connection", "x-other")
        .add("X-Private", "1")
        .add("X-Other", "2")
        .add("Keep-Alive", "timeout=5")
        .add("Proxy-Connection", "keep-alive")
        .add("TE", "trailers")
        .add("Upgrade", "h2c")
        .add("Content-Length", "0")
        .add("X-Kept", "3");
    ForwardedHeaders.rewriteRequest(h, CLIENT, false);
    assertThat(h.names()).map(String::toLowerCase)
        .doesNotContain("connection", "x-private", "x-other", "keep-alive", "proxy-connection", "te", "upgrade")
        .contains("host", "content-length", "x-kept");
  }

  @Test
  void framingHostAndRequestIdCannotBeRemovedThroughConnection() {
    HttpHeaders h = new DefaultHttpHeaders()
        .add("Host", "a")
        .add("Transfer-Encoding", "chunked")
        .add("X-Request-Id", "r")
        .add("Connection", "host, transfer-encoding, content-length, x-request-id");
    ForwardedHeaders.rewriteRequest(h, CLIENT, false);
    assertThat(h.get("Host")).isEqualTo("a");
    assertThat(h.get("Transfer-Encoding")).isEqualTo("chunked");
    assertThat(h.get("X-Request-Id")).isEqualTo("r");
  }

  @Test
  void forwardedForIsAppendedAndProtoAndHostAreSet() {
    HttpHeaders h = new DefaultHttpHeaders()
        .add("Host", "shop.example:8443")
        .add("X-Forwarded-For", "203.0.113.1")
        .add("X-Forwarded-For", "198.51.100.2")
        .add("X-Forwarded-Proto", "https")
        .add("X-Forwarded-Host", "spoofed");
    ForwardedHeaders.rewriteRequest(h, CLIENT, false);
    assertThat(h.getAll("X-Forwarded-For")).containsExactly("203.0.113.1, 198.51.100.2, 192.0.2.7");
    assertThat(h.get("X-Forwarded-Proto")).isEqualTo("http");
    assertThat(h.get("X-Forwarded-Host")).isEqualTo("shop.example:8443");
  }

  @Test
  void aWebSocketUpgradeKeepsItsUpgradeHeaders() {
    HttpHeaders h = new DefaultHttpHeaders()
        .add("Host", "a")
        .add("Connection", "keep-alive, Upgrade")
        .add("Upgrade", "websocket");
    ForwardedHeaders.rewriteRequest(h, CLIENT, true);
    assertThat(h.get("Connection")).isEqualToIgnoringCase("upgrade");
    assertThat(h.get("Upgrade")).isEqualTo("websocket");
  }

  @Test
  void responsesLoseHopByHopHeaders() {
    HttpHeaders h = new DefaultHttpHeaders()
        .add("Connection", "close, X-Hop")
        .add("X-Hop", "1")
        .add("Keep-Alive", "timeout=5")
        .add("Content-Length", "3");
    ForwardedHeaders.rewriteResponse(h);
    assertThat(h.names()).map(String::toLowerCase).containsExactly("content-length");
  }

  @Test
  void generatedRequestIdsAre32HexDigitsAndDiffer() {
    CharSequence a = RequestIds.generate();
    CharSequence b = RequestIds.generate();
    assertThat(a.toString()).matches("[0-9a-f]{32}");
    assertThat(a.toString()).isNotEqualTo(b.toString());
    assertThat(a.length()).isEqualTo(32);
    StringBuilder chars = new StringBuilder();
    for (int i = 0; i < a.length(); i++) {
      chars.append(a.charAt(i));
    }
    assertThat(chars.toString()).as("charAt agrees with toString").isEqualTo(a.toString());
    assertThat(a.subSequence(3, 9).toString()).isEqualTo(a.toString().substring(3, 9));
  }

  @Test
  void aUsableClientRequestIdIsKeptAndAnUnusableOneReplaced() {
    HttpHeaders kept = new DefaultHttpHeaders().add("X-Request-Id", "order-42");
    assertThat(RequestIds.ensure(kept).toString()).isEqualTo("order-42");

    HttpHeaders tooLong = new DefaultHttpHeaders().add("X-Request-Id", "x".repeat(RequestIds.MAX_LENGTH + 1));
    CharSequence replaced = RequestIds.ensure(tooLong);
    assertThat(replaced.toString()).matches("[0-9a-f]{32}");
    assertThat(tooLong.getAll("X-Request-Id")).containsExactly(replaced.toString());

    HttpHeaders twice = new DefaultHttpHeaders().add("X-Request-Id", "a").add("X-Request-Id", "b");
    CharSequence one = RequestIds.ensure(twice);
    assertThat(twice.getAll("X-Request-Id")).containsExactly(one.toString());

    HttpHeaders none = new DefaultHttpHeaders();
    assertThat(RequestIds.ensure(none).toString()).isEqualTo(none.get("X-Request-Id"));
  }

  @Test
  void everyCannedAnswerIsTheContractsJson() {
    Object[][] cases = {
      {400, "Bad request"}, {408, "Request timeout"}, {413, "Payload too large"}, {414, "URI too long"},
      {429, "Rate limit exceeded"}, {431, "Request header fields too large"}, {502, "Bad gateway"},
      {503, "No healthy backends"}, {504, "Gateway timeout"}
    };
    for (Object[] c : cases) {
      HttpResponseStatus status = HttpResponseStatus.valueOf((Integer) c[0]);
      FullHttpResponse r = ErrorResponses.create(status, false, "id-1");
      String body = r.content().toString(StandardCharsets.UTF_8);
      assertThat(body).isEqualTo("{\"code\":" + c[0] + ",\"message\":\"" + c[1] + "\"}");
      assertThat(r.headers().get("Content-Type")).isEqualTo("application/json");
      assertThat(r.headers().getInt("Content-Length")).isEqualTo(body.length());
      assertThat(r.headers().get("X-Request-Id")).isEqualTo("id-1");
      assertThat(r.headers().contains("Connection")).isFalse();
      assertThat(ErrorResponses.message(status)).isEqualTo(c[1]);
      r.release();
    }
    FullHttpResponse closing = ErrorResponses.create(HttpResponseStatus.BAD_REQUEST, true, null);
    assertThat(closing.headers().get("Connection")).isEqualTo("close");
    assertThat(closing.headers().contains("X-Request-Id")).isFalse();
    closing.release();
  }
}
