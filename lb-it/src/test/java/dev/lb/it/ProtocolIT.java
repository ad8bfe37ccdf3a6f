package dev.lb.it;

import static dev.lb.it.LbAssertions.assertJsonError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lb.it.support.Digests;
import dev.lb.it.support.PseudoRandomBytes;
import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.RawResponse;
import dev.lb.it.support.ResponseHead;
import dev.lb.it.support.TestBackend;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * HTTP as the balancer speaks it: WebSocket tunnels, {@code Expect: 100-continue}, the headers a backend sees and the
 * client gets back, the request limits answered before any backend is involved, and the connection timeouts.
 */
class ProtocolIT {
  private static final int MAX_BODY = 1024;
  private static final Duration WAIT = Duration.ofSeconds(5);

  @AutoClose private final TestBackend backend = TestBackend.start("b1");


  private Lb startLb() throws Exception {
    return Lb.builder().backends(backend).start();
  }

  // ---------------------------------------------------------------- WebSocket

  @Test
  void webSocketEchoesTextAndBinaryThroughTheBalancer() throws Exception {
    try (Lb lb = startLb()) {
      BlockingQueue<Object> received = new LinkedBlockingQueue<>();
      CompletableFuture<Integer> closed = new CompletableFuture<>();
      WebSocket ws = HttpClient.newHttpClient()
          .newWebSocketBuilder()
          .buildAsync(URI.create("ws://127.0.0.1:" + lb.port() + "/ws"), collector(received, closed))
          .get(5, TimeUnit.SECONDS);

      ws.sendText("hello through lb", true).get(5, TimeUnit.SECONDS);
      assertThat(received.poll(5, TimeUnit.SECONDS)).isEqualTo("hello through lb");

      byte[] small = {0, 1, 2, (byte) 0xff};
      ws.sendBinary(ByteBuffer.wrap(small), true).get(5, TimeUnit.SECONDS);
      assertThat(received.poll(5, TimeUnit.SECONDS)).isEqualTo(small);

      byte[] large = new byte[300 * 1024];
      new PseudoRandomBytes(11).nextBytes(large, 0, large.length);
      ws.sendBinary(ByteBuffer.wrap(large), true).get(5, TimeUnit.SECONDS);
      assertThat((byte[]) received.poll(5, TimeUnit.SECONDS)).isEqualTo(large);

      ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
      assertThat(closed.get(5, TimeUnit.SECONDS)).isEqualTo(WebSocket.NORMAL_CLOSURE);
    }
    assertThat(backend.lastRequest().path()).isEqualTo("/ws");
    assertThat(backend.lastRequest().header("Upgrade")).isEqualToIgnoringCase("websocket");
  }

  @Test
  void theUpgradeAnswerPassesThroughWithItsHandshakeHeaders() throws Exception {
    String key = Base64.getEncoder().encodeToString("0123456789abcdef".getBytes(StandardCharsets.US_ASCII));
    try (Lb lb = startLb(); RawHttpClient client = RawHttpClient.connect(lb.port())) {
      client.send("GET /ws HTTP/1.1\r\nHost: lb\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n");

      ResponseHead head = client.readHead(false);

      assertThat(head.status()).isEqualTo(101);
      assertThat(head.header("Upgrade")).isEqualToIgnoringCase("websocket");
      assertThat(head.headers().hasToken("Connection", "upgrade")).as("%s", head.headers()).isTrue();
      assertThat(head.header("Sec-WebSocket-Accept")).isEqualTo(webSocketAccept(key));
    }
  }

  private static WebSocket.Listener collector(BlockingQueue<Object> received, CompletableFuture<Integer> closed) {
    return new WebSocket.Listener() {
      private final StringBuilder text = new StringBuilder();
      private final ByteArrayOutputStream binary = new ByteArrayOutputStream();

      @Override
      public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        text.append(data);
        if (last) {
          received.add(text.toString());
          text.setLength(0);
        }
        ws.request(1);
        return null;
      }

      @Override
      public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
        byte[] part = new byte[data.remaining()];
        data.get(part);
        binary.writeBytes(part);
        if (last) {
          received.add(binary.toByteArray());
          binary.reset();
        }
        ws.request(1);
        return null;
      }

      @Override
      public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
        closed.complete(statusCode);
        return null;
      }

      @Override
      public void onError(WebSocket ws, Throwable error) {
        closed.completeExceptionally(error);
      }
    };
  }

  private static String webSocketAccept(String key) {
    try {
      byte[] sha1 = java.security.MessageDigest.getInstance("SHA-1")
          .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII));
      return Base64.getEncoder().encodeToString(sha1);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---------------------------------------------------------------- Expect: 100-continue

  @Test
  void expectContinueGetsAnInterimAnswerBeforeTheBodyIsSent() throws Exception {
    byte[] body = new byte[100 * 1024];
    new PseudoRandomBytes(12).nextBytes(body, 0, body.length);
    try (Lb lb = startLb(); RawHttpClient client = RawHttpClient.connect(lb.port())) {
      client.send("POST /sha256 HTTP/1.1\r\nHost: lb\r\nContent-Length: " + body.length
          + "\r\nExpect: 100-continue\r\n\r\n");

      RawResponse interim = client.readResponse();
      assertThat(interim.status()).as("%s", interim).isEqualTo(100);

      client.send(body);
      RawResponse response = client.readResponse();
      assertThat(response.status()).as("%s", response).isEqualTo(200);
      JsonNode seen = LbAssertions.json(response.bodyString());
      assertThat(seen.path("bytes").asLong()).isEqualTo(body.length);
      assertThat(seen.path("sha256").asText()).isEqualTo(Digests.sha256Hex(body));

      assertThat(client.get("/").readResponse().bodyString()).as("the connection is still usable").isEqualTo("b1");
    }
  }

  @Test
  void aHeadRequestGetsTheHeadersAndNoBody() throws Exception {
    try (Lb lb = startLb(); RawHttpClient client = RawHttpClient.connect(lb.port())) {
      client.send("HEAD /bytes?n=5000 HTTP/1.1\r\nHost: lb\r\n\r\n");
      RawResponse head = client.readResponseToHead();

      assertThat(head.status()).isEqualTo(200);
      assertThat(head.header("Content-Length")).isEqualTo("5000");
      assertThat(client.get("/").readResponse().bodyString()).as("no stray body before the next answer")
          .isEqualTo("b1");
    }
  }

  @Test
  void expectContinueWithADeclaredBodyOverTheLimitGets413Instead() throws Exception {
    try (Lb lb = Lb.builder().backends(backend).set("proxy.max_body_size", Integer.toString(MAX_BODY)).start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      client.send("POST /sha256 HTTP/1.1\r\nHost: lb\r\nContent-Length: " + (MAX_BODY * 2)
          + "\r\nExpect: 100-continue\r\n\r\n");

      assertJsonError(client.readResponse(), 413, "Payload too large");
    }
    assertThat(backend.requests()).isZero();
  }

  @Test
  void aResponseDelimitedByCloseReachesTheClientWhole() throws Exception {
    try (RawBackend closeDelimited =
            RawBackend.answering("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end");
        Lb lb = Lb.builder().backend(closeDelimited.url()).start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      RawResponse response = client.get("/").readResponse();

      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyString()).isEqualTo("until the end");
    }
  }

  // ---------------------------------------------------------------- headers

  @Test
  void theBackendSeesForwardedHeadersAndNoHopByHopOnes() throws Exception {
    try (Lb lb = startLb(); RawHttpClient client = RawHttpClient.connect(lb.port())) {
      RawResponse response = client.send("GET /headers HTTP/1.1\r\n"
          + "Host: app.example:8443\r\n"
          + "X-Forwarded-For: 203.0.113.7\r\n"
          + "Connection: keep-alive, X-Hop\r\n"
          + "X-Hop: secret\r\n"
          + "Keep-Alive: timeout=5\r\n"
          + "TE: trailers\r\n"
          + "Proxy-Connection: keep-alive\r\n"
          + "X-Custom: stays\r\n"
          + "\r\n").readResponse();
      assertThat(response.status()).isEqualTo(200);
      JsonNode headers = LbAssertions.json(response.bodyString()).path("headers");

      assertThat(joined(headers, "x-forwarded-for")).isEqualTo("203.0.113.7, 127.0.0.1");
      assertThat(joined(headers, "x-forwarded-proto")).isEqualTo("http");
      assertThat(joined(headers, "x-forwarded-host")).isEqualTo("app.example:8443");
      assertThat(joined(headers, "host")).isEqualTo("app.example:8443");
      assertThat(joined(headers, "x-custom")).isEqualTo("stays");
      String requestId = joined(headers, "x-request-id");
      assertThat(requestId).matches("[0-9a-f]{32}");
      assertThat(response.header("X-Request-Id")).isEqualTo(requestId);
      for (String hop : List.of("x-hop", "keep-alive", "te", "proxy-connection")) {
        assertThat(headers.has(hop)).as("backend sees %s in %s", hop, headers).isFalse();
      }
      assertThat(joined(headers, "connection").toLowerCase()).doesNotContain("x-hop");
    }
  }

  @Test
  void xForwardedForIsTheClientAloneWhenItSentNone() throws Exception {
    try (Lb lb = startLb(); RawHttpClient client = RawHttpClient.connect(lb.port())) {
      JsonNode headers = LbAssertions.json(client.get("/headers").readResponse().bodyString()).path("headers");

      assertThat(joined(headers, "x-forwarded-for")).isEqualTo("127.0.0.1");
      assertThat(joined(headers, "x-forwarded-host")).isEqualTo("127.0.0.1:" + lb.port());
    }
  }

  @Test
  void aClientRequestIdIsKeptAndReturned() throws Exception {
    try (Lb lb = startLb(); RawHttpClient client = RawHttpClient.connect(lb.port())) {
      RawResponse response =
          client.send("GET /headers HTTP/1.1\r\nHost: lb\r\nX-Request-Id: my-id-1\r\n\r\n").readResponse();

      JsonNode headers = LbAssertions.json(response.bodyString()).path("headers");
      assertThat(joined(headers, "x-request-id")).isEqualTo("my-id-1");
      assertThat(response.headers().getAll("X-Request-Id")).containsExactly("my-id-1");
    }
  }

  @Test
  void eachRequestGetsItsOwnGeneratedId() throws Exception {
    try (Lb lb = startLb(); RawHttpClient client = RawHttpClient.connect(lb.port())) {
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        RawResponse response = client.get("/").readResponse();
        ids.add(response.header("X-Request-Id"));
        assertThat(backend.lastRequest().header("X-Request-Id")).isEqualTo(response.header("X-Request-Id"));
      }

      assertThat(ids).allMatch(id -> id != null && id.matches("[0-9a-f]{32}")).doesNotHaveDuplicates();
    }
  }

  @Test
  void hopByHopResponseHeadersAreNotForwardedToTheClient() throws Exception {
    try (RawBackend hops = RawBackend.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
            + "Connection: X-Backend-Hop\r\nX-Backend-Hop: 1\r\nKeep-Alive: timeout=5\r\n"
            + "Proxy-Connection: keep-alive\r\nX-End-To-End: yes\r\n\r\nok");
        Lb lb = Lb.builder().backend(hops.url()).start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      RawResponse response = client.get("/").readResponse();

      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyString()).isEqualTo("ok");
      assertThat(response.header("X-End-To-End")).isEqualTo("yes");
      assertThat(response.headers().names()).as("%s", response)
          .doesNotContain("x-backend-hop", "keep-alive", "proxy-connection");
      assertThat(response.headers().hasToken("Connection", "X-Backend-Hop")).isFalse();
    }
  }

  private static String joined(JsonNode headers, String name) {
    List<String> values = new ArrayList<>();
    headers.path(name).forEach(v -> values.add(v.asText()));
    return String.join(", ", values);
  }

  // ---------------------------------------------------------------- request limits

  static Stream<Arguments> refusedRequests() {
    String longTarget = "/" + "a".repeat(5000);
    String bigHeader = "X-Big: " + "b".repeat(9000) + "\r\n";
    byte[] tooLong = new byte[MAX_BODY * 2];
    String chunk = Integer.toHexString(tooLong.length) + "\r\n" + "c".repeat(tooLong.length) + "\r\n";
    return Stream.of(
        Arguments.of("request line over 4096 bytes",
            "GET " + longTarget + " HTTP/1.1\r\nHost: lb\r\n\r\n", 414, "URI too long"),
        Arguments.of("head over max_header_size",
            "GET / HTTP/1.1\r\nHost: lb\r\n" + bigHeader + "\r\n", 431, "Request header fields too large"),
        Arguments.of("declared body over max_body_size",
            "POST /echo HTTP/1.1\r\nHost: lb\r\nContent-Length: " + tooLong.length + "\r\n\r\n"
                + "d".repeat(tooLong.length), 413, "Payload too large"),
        Arguments.of("chunked body over max_body_size",
            "POST /echo HTTP/1.1\r\nHost: lb\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + "0\r\n\r\n",
            413, "Payload too large"),
        Arguments.of("HTTP/1.1 without Host",
            "GET / HTTP/1.1\r\nUser-Agent: test\r\n\r\n", 400, "Bad request"),
        Arguments.of("two Host headers",
            "GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n", 400, "Bad request"),
        Arguments.of("Content-Length and Transfer-Encoding",
            "POST /echo HTTP/1.1\r\nHost: lb\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3\r\nabc\r\n0\r\n\r\n", 400, "Bad request"),
        Arguments.of("two different Content-Lengths",
            "POST /echo HTTP/1.1\r\nHost: lb\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            400, "Bad request"),
        Arguments.of("HTTP/1.0 with Transfer-Encoding",
            "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400, "Bad request"),
        Arguments.of("a malformed request line",
            "GET /a b HTTP/1.1\r\nHost: lb\r\n\r\n", 400, "Bad request"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedRequests")
  void requestsOverTheLimitsAreAnsweredByTheBalancerAlone(String what, String request, int status, String message)
      throws Exception {
    try (Lb lb = Lb.builder().backends(backend).set("proxy.max_body_size", Integer.toString(MAX_BODY)).start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      RawResponse response = client.send(request).readResponse();

      assertJsonError(response, status, message);
    }
    assertThat(backend.requests()).as("requests the backend saw").isZero();
  }

  @Test
  void requestsJustInsideTheLimitsPass() throws Exception {
    try (Lb lb = Lb.builder().backends(backend).set("proxy.max_body_size", Integer.toString(MAX_BODY)).start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      String target = "/" + "a".repeat(4000);
      assertThat(client.send("GET " + target + " HTTP/1.1\r\nHost: lb\r\n\r\n").readResponse().status())
          .isEqualTo(200);
      assertThat(client.send("GET / HTTP/1.1\r\nHost: lb\r\nX-Big: " + "b".repeat(7000) + "\r\n\r\n")
          .readResponse().status()).isEqualTo(200);
      RawResponse echo = client.send("POST /echo HTTP/1.1\r\nHost: lb\r\nContent-Length: " + MAX_BODY
          + "\r\n\r\n" + "e".repeat(MAX_BODY)).readResponse();
      assertThat(echo.status()).isEqualTo(200);
      assertThat(echo.body()).hasSize(MAX_BODY);
      assertThat(client.send("GET / HTTP/1.0\r\n\r\n").readResponse().status())
          .as("HTTP/1.0 needs no Host").isEqualTo(200);
    }
    assertThat(backend.requests()).isEqualTo(4);
  }

  // ---------------------------------------------------------------- timeouts

  @Test
  void aHeadSentTooSlowlyGets408AndTheConnectionCloses() throws Exception {
    try (Lb lb = Lb.builder().backends(backend).set("proxy.request_header_timeout", "1s").start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      client.send("GET / HTTP/1.1\r\n");
      Thread dripper = new Thread(() -> {
        try {
          for (int i = 0; i < 50; i++) {
            Thread.sleep(200);
            client.send("X-Drip-" + i + ": x\r\n");
          }
        } catch (IOException | InterruptedException e) {
          // The balancer gave up on us, or the test ended.
        }
      }, "header-dripper");
      dripper.setDaemon(true);
      dripper.start();
      long start = System.nanoTime();
      try {
        RawResponse response = client.readResponse(Duration.ofSeconds(10));
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertJsonError(response, 408, "Request timeout");
        assertThat(took).isLessThan(WAIT);
        assertThat(client.isClosedByPeer(WAIT)).as("closed after 408").isTrue();
      } finally {
        dripper.interrupt();
      }
    }
    assertThat(backend.requests()).isZero();
  }

  @Test
  void aConnectionThatSendsNothingIsClosedAfterTheHeaderTimeout() throws Exception {
    try (Lb lb = Lb.builder().backends(backend).set("proxy.request_header_timeout", "1s").start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      assertThat(client.isClosedByPeer(WAIT)).as("a silent connection closed after request_header_timeout").isTrue();
    }
    assertThat(backend.requests()).isZero();
  }

  @Test
  void aSecondHeadSentTooSlowlyOnAKeepAliveConnectionGets408() throws Exception {
    try (Lb lb = Lb.builder().backends(backend).set("proxy.request_header_timeout", "1s").start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      assertThat(client.get("/").readResponse().status()).isEqualTo(200);
      assertThat(client.isClosedByPeer(Duration.ofMillis(1500)))
          .as("a keep-alive connection waits idle_timeout, not request_header_timeout, for the next head").isFalse();

      client.send("GET / HTTP/1.1\r\nHost: lb\r\n");

      assertJsonError(client.readResponse(Duration.ofSeconds(10)), 408, "Request timeout");
      assertThat(client.isClosedByPeer(WAIT)).isTrue();
    }
    assertThat(backend.requests()).isEqualTo(1);
  }

  @Test
  void connectionsOverMaxConnectionsAreClosed() throws Exception {
    try (Lb lb = Lb.builder().backends(backend).set("listen.max_connections", "2").start();
        RawHttpClient first = RawHttpClient.connect(lb.port());
        RawHttpClient second = RawHttpClient.connect(lb.port())) {
      assertThat(first.get("/").readResponse().status()).isEqualTo(200);
      assertThat(second.get("/").readResponse().status()).isEqualTo(200);
      try (RawHttpClient third = RawHttpClient.connect(lb.port())) {
        assertThat(third.isClosedByPeer(WAIT)).as("a third connection over max_connections: 2").isTrue();
      }
      first.close();
      await("a place is free again").atMost(WAIT).untilAsserted(() -> {
        try (RawHttpClient again = RawHttpClient.connect(lb.port())) {
          assertThat(again.get("/").readResponse().status()).isEqualTo(200);
        }
      });
    }
  }

  @Test
  void anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout() throws Exception {
    assertIdleConnectionClosed(Lb.builder().backends(backend).set("proxy.idle_timeout", "1s"));
  }

  @Test
  void anIdleKeepAliveConnectionIsClosedWhenIdleAndHeaderTimeoutsAreEqual() throws Exception {
    assertIdleConnectionClosed(Lb.builder().backends(backend)
        .set("proxy.idle_timeout", "1s").set("proxy.request_header_timeout", "1s"));
  }

  private static void assertIdleConnectionClosed(Lb.Builder config) throws Exception {
    try (Lb lb = config.start(); RawHttpClient client = RawHttpClient.connect(lb.port())) {
      assertThat(client.get("/").readResponse().status()).isEqualTo(200);

      assertThat(client.isClosedByPeer(Duration.ofMillis(200))).as("open right after the response").isFalse();
      assertThat(client.isClosedByPeer(WAIT)).as("closed once idle for idle_timeout").isTrue();
    }
  }
}
