package dev.lb.it.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Each behaviour of {@link TestBackend}, exercised directly over loopback with the toolkit's own clients. */
class TestBackendTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(5);

  private TestBackend backend;

  @BeforeEach
  void startBackend() {
    backend = TestBackend.start("alpha");
  }

  @AfterEach
  void closeBackend() {
    backend.close();
  }

  @Test
  void rootAnswersWithItsNameAndContentLength() throws IOException {
    try (RawHttpClient client = RawHttpClient.connect(backend.port())) {
      RawResponse response = client.get("/").readResponse();

      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyString()).isEqualTo("alpha");
      assertThat(response.framing()).isEqualTo(ResponseHead.Framing.CONTENT_LENGTH);
      assertThat(response.header("Content-Length")).isEqualTo("5");
      assertThat(response.header("content-type")).startsWith("text/plain");
    }
    assertThat(backend.requests()).isEqualTo(1);
    assertThat(backend.connectionsAccepted()).isEqualTo(1);
    assertThat(backend.url()).isEqualTo("http://127.0.0.1:" + backend.port());
  }

  @Test
  void unmatchedPathsAnswerLikeRoot() throws Exception {
    HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(backend.url("/no/such?x=1"))).build());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("alpha");
  }

  @ParameterizedTest(name = "chunked={0}")
  @ValueSource(booleans = {false, true})
  void bytesStreamsOneHundredMebibytesWithTheExpectedHash(boolean chunked) throws IOException {
    long n = 100L << 20;

    Transfer transfer =
        SlowReader.download(backend.port(), "/bytes?n=" + n + "&seed=7&chunked=" + chunked);

    assertThat(transfer.status()).isEqualTo(200);
    assertThat(transfer.head().framing())
        .isEqualTo(chunked ? ResponseHead.Framing.CHUNKED : ResponseHead.Framing.CONTENT_LENGTH);
    assertThat(transfer.bodyBytes()).isEqualTo(n);
    assertThat(transfer.sha256()).isEqualTo(TestBackend.expectedSha256(n, 7));
  }

  @Test
  void bytesFollowsASlowReader() throws IOException {
    long n = 2L << 20;

    Transfer transfer =
        SlowReader.download(backend.port(), "/bytes?n=" + n + "&seed=1&chunked=true", Throttle.kibEvery(64, 2));

    assertThat(transfer.bodyBytes()).isEqualTo(n);
    assertThat(transfer.sha256()).isEqualTo(TestBackend.expectedSha256(n, 1));
    assertThat(transfer.elapsed()).isGreaterThanOrEqualTo(Duration.ofMillis(2 * 30));
  }

  @Test
  void bytesHoldsBackWhileTheReaderDoesNotRead() throws Exception {
    long n = 100L << 20;
    long before = usedDirectMemory();
    try (RawHttpClient client = RawHttpClient.connect("127.0.0.1", backend.port(), 64 * 1024)) {
      ResponseHead head = client.get("/bytes?n=" + n + "&seed=4").readHead(false);
      Thread.sleep(300);

      long held = usedDirectMemory() - before;
      BodySink body = BodySink.drain(client.body(head), Throttle.NONE);

      assertThat(held).as("direct memory held while the reader stalls").isLessThan(8L << 20);
      assertThat(body.bytes()).isEqualTo(n);
      assertThat(body.sha256()).isEqualTo(TestBackend.expectedSha256(n, 4));
    }
  }

  @Test
  void bytesOfZeroLength() throws IOException {
    try (RawHttpClient client = RawHttpClient.connect(backend.port())) {
      RawResponse fixed = client.get("/bytes?n=0").readResponse();
      RawResponse chunked = client.get("/bytes?n=0&chunked=true").readResponse();

      assertThat(fixed.header("content-length")).isEqualTo("0");
      assertThat(fixed.body()).isEmpty();
      assertThat(chunked.framing()).isEqualTo(ResponseHead.Framing.CHUNKED);
      assertThat(chunked.body()).isEmpty();
    }
  }

  @ParameterizedTest(name = "chunked={0}")
  @ValueSource(booleans = {false, true})
  void sha256HashesATenMebibyteUpload(boolean chunked) throws IOException {
    long n = 10L << 20;

    Transfer transfer = StreamingUploader.post("/sha256", n).seed(3).chunked(chunked).sendTo(backend.port());

    assertThat(transfer.status()).isEqualTo(200);
    assertThat(transfer.uploadFailure()).isNull();
    assertThat(transfer.requestBytesSent()).isEqualTo(n);
    JsonNode json = JSON.readTree(transfer.bodyString());
    assertThat(json.get("bytes").asLong()).isEqualTo(n);
    assertThat(json.get("sha256").asText()).isEqualTo(PseudoRandomBytes.sha256(n, 3));
    assertThat(backend.lastRequestHeaders().get("transfer-encoding")).isEqualTo(chunked ? "chunked" : null);
  }

  @ParameterizedTest(name = "chunked={0}")
  @ValueSource(booleans = {false, true})
  void echoSendsTheBodyBackWithTheSameFraming(boolean chunked) throws IOException {
    long n = 8L << 20;

    Transfer transfer = StreamingUploader.post("/echo", n).seed(5).chunked(chunked).sendTo(backend.port());

    assertThat(transfer.status()).isEqualTo(200);
    assertThat(transfer.bodyBytes()).isEqualTo(n);
    assertThat(transfer.sha256()).isEqualTo(PseudoRandomBytes.sha256(n, 5));
    if (chunked) {
      assertThat(transfer.head().framing()).isEqualTo(ResponseHead.Framing.CHUNKED);
    } else {
      assertThat(transfer.head().header("content-length")).isEqualTo(Long.toString(n));
    }
  }

  @Test
  void echoAnswersBeforeTheRequestBodyIsComplete() throws IOException {
    try (RawHttpClient client = RawHttpClient.connect(backend.port())) {
      client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello");
      ResponseHead head = client.readHead(false);
      ResponseBody body = client.body(head);

      assertThat(head.contentLength()).isEqualTo(10);
      assertThat(new String(body.readNBytes(5), StandardCharsets.US_ASCII)).isEqualTo("hello");
      client.send("world");
      assertThat(new String(body.readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("world");
    }
  }

  @Test
  void webSocketEchoesTextAndBinaryFrames() throws Exception {
    BlockingQueue<Object> received = new LinkedBlockingQueue<>();
    CompletableFuture<Integer> closed = new CompletableFuture<>();
    WebSocket.Listener listener =
        new WebSocket.Listener() {
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
        };
    WebSocket ws =
        HttpClient.newHttpClient()
            .newWebSocketBuilder()
            .buildAsync(URI.create("ws://127.0.0.1:" + backend.port() + "/ws"), listener)
            .get(5, TimeUnit.SECONDS);

    ws.sendText("hello, backend", true).get(5, TimeUnit.SECONDS);
    assertThat(received.poll(5, TimeUnit.SECONDS)).isEqualTo("hello, backend");
    byte[] binary = new byte[100_000];
    new PseudoRandomBytes(9).nextBytes(binary, 0, binary.length);
    ws.sendBinary(ByteBuffer.wrap(binary), true).get(5, TimeUnit.SECONDS);
    Object echoed = received.poll(5, TimeUnit.SECONDS);
    assertThat(echoed).isInstanceOf(byte[].class);
    assertThat((byte[]) echoed).isEqualTo(binary);

    ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
    assertThat(closed.get(5, TimeUnit.SECONDS)).isEqualTo(WebSocket.NORMAL_CLOSURE);
    assertThat(backend.lastRequest().path()).isEqualTo("/ws");
  }

  @Test
  void expectContinueGetsAnInterimResponseBeforeTheBody() throws IOException {
    try (RawHttpClient client = RawHttpClient.connect(backend.port())) {
      client.send("POST /sha256 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
      RawResponse interim = client.readResponse();

      assertThat(interim.status()).isEqualTo(100);
      assertThat(interim.head().isInterim()).isTrue();
      client.send("hello");
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(JSON.readTree(response.body()).get("sha256").asText())
          .isEqualTo(Digests.sha256Hex("hello".getBytes(StandardCharsets.US_ASCII)));
    }
  }

  @Test
  void stopClosesEverythingAndRestartBindsTheSamePort() throws IOException {
    int port = backend.port();
    try (RawHttpClient kept = RawHttpClient.connect(port)) {
      assertThat(kept.get("/").readResponse().status()).isEqualTo(200);

      backend.stop();

      assertThat(backend.isRunning()).isFalse();
      assertThat(kept.isClosedByPeer(WAIT)).isTrue();
      assertThatThrownBy(() -> RawHttpClient.connect(port)).isInstanceOf(ConnectException.class);
      assertThat(backend.openConnections()).isZero();
    }

    backend.restart();

    assertThat(backend.port()).isEqualTo(port);
    try (RawHttpClient client = RawHttpClient.connect(port)) {
      assertThat(client.get("/").readResponse().bodyString()).isEqualTo("alpha");
    }
    assertThat(backend.connectionsAccepted()).isEqualTo(2);
    assertThatThrownBy(backend::restart).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void closeDropsTheConnectionWithoutAnAnswer() throws IOException {
    try (RawHttpClient client = RawHttpClient.connect(backend.port())) {
      client.get("/close");

      assertThatThrownBy(client::readResponse).isInstanceOf(EOFException.class);
    }
  }

  @Test
  void resetResetsTheConnection() throws IOException {
    try (RawHttpClient client = RawHttpClient.connect(backend.port())) {
      client.get("/reset");

      assertThatThrownBy(client::readResponse)
          .isInstanceOf(SocketException.class)
          .hasMessageContaining("reset");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"/close", "/reset"})
  void closeAndResetAreErrorsForJavaHttpClient(String path) {
    HttpRequest request = HttpRequest.newBuilder(URI.create(backend.url(path))).timeout(WAIT).build();

    assertThatThrownBy(() -> send(request)).isInstanceOf(IOException.class);
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrder() throws IOException {
    try (RawHttpClient client = RawHttpClient.connect(backend.port())) {
      client.send(
          get("/slow?ms=100")
              + "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
              + get("/status?code=201")
              + get("/bytes?n=100000&seed=2")
              + get("/"));

      List<RawResponse> responses = client.readResponses(5);

      assertThat(responses).extracting(RawResponse::status).containsExactly(200, 200, 201, 200, 200);
      assertThat(responses.get(0).bodyString()).isEqualTo("alpha");
      assertThat(responses.get(1).bodyString()).isEqualTo("hello");
      assertThat(responses.get(2).bodyString()).isEqualTo("alpha 201");
      assertThat(Digests.sha256Hex(responses.get(3).body())).isEqualTo(TestBackend.expectedSha256(100_000, 2));
      assertThat(responses.get(4).bodyString()).isEqualTo("alpha");
    }
    assertThat(backend.connectionsAccepted()).isEqualTo(1);
    assertThat(backend.recordedRequests())
        .extracting(RecordedRequest::path)
        .containsExactly("/slow", "/echo", "/status", "/bytes", "/");
  }

  @Test
  void slowAnswersAfterTheGivenTime() throws IOException {
    try (RawHttpClient client = RawHttpClient.connect(backend.port())) {
      long start = System.nanoTime();
      RawResponse response = client.get("/slow?ms=200").readResponse();

      assertThat(response.bodyString()).isEqualTo("alpha");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
    }
  }

  @Test
  void stallNeverAnswersAndKeepsTheConnection() throws IOException {
    try (RawHttpClient client = RawHttpClient.connect(backend.port()).timeout(Duration.ofMillis(300))) {
      client.get("/stall");

      assertThatThrownBy(client::readResponse).isInstanceOf(SocketTimeoutException.class);
      assertThat(backend.openConnections()).isEqualTo(1);
      assertThat(client.isClosedByPeer(Duration.ofMillis(100))).isFalse();
    }
  }

  @Test
  void statusAnswersWithTheRequestedCode() throws IOException {
    try (RawHttpClient client = RawHttpClient.connect(backend.port())) {
      RawResponse unavailable = client.get("/status?code=503").readResponse();
      RawResponse noContent = client.get("/status?code=204").readResponse();
      RawResponse bad = client.get("/status?code=abc").readResponse();

      assertThat(unavailable.status()).isEqualTo(503);
      assertThat(unavailable.bodyString()).isEqualTo("alpha 503");
      assertThat(noContent.status()).isEqualTo(204);
      assertThat(noContent.body()).isEmpty();
      assertThat(bad.status()).isEqualTo(400);
    }
  }

  @Test
  void headersReportsWhatTheBackendReceived() throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(backend.port())) {
      client.send(
          "GET /headers?q=1 HTTP/1.1\r\nHost: example.test\r\nX-Forwarded-For: 10.0.0.1\r\n"
              + "x-forwarded-for: 10.0.0.2\r\nX-Request-Id: abc\r\n\r\n");
      RawResponse response = client.readResponse();

      JsonNode json = JSON.readTree(response.body());
      assertThat(response.header("content-type")).isEqualTo("application/json");
      assertThat(json.get("backend").asText()).isEqualTo("alpha");
      assertThat(json.get("request_line").asText()).isEqualTo("GET /headers?q=1 HTTP/1.1");
      assertThat(json.at("/headers/x-forwarded-for").toString()).isEqualTo("[\"10.0.0.1\",\"10.0.0.2\"]");
      assertThat(json.at("/headers/host/0").asText()).isEqualTo("example.test");
    }
    RecordedRequest recorded = backend.takeRequest(WAIT);
    assertThat(recorded.requestLine()).isEqualTo("GET /headers?q=1 HTTP/1.1");
    assertThat(recorded.headers().getAll("X-FORWARDED-FOR")).containsExactly("10.0.0.1", "10.0.0.2");
    assertThat(backend.lastRequestHeaders().get("x-request-id")).isEqualTo("abc");
  }

  @Test
  void healthFollowsTheSwitch() throws IOException {
    try (RawHttpClient client = RawHttpClient.connect(backend.port())) {
      RawResponse healthy = client.get("/health").readResponse();
      backend.setHealthStatus(503);
      RawResponse unhealthy = client.get("/health").readResponse();

      assertThat(healthy.status()).isEqualTo(200);
      assertThat(healthy.bodyString()).isEqualTo("ok");
      assertThat(unhealthy.status()).isEqualTo(503);
    }
  }

  @Test
  void keepAliveReusesOneConnection() throws IOException {
    try (RawHttpClient client = RawHttpClient.connect(backend.port())) {
      client.get("/").readResponse();
      client.get("/").readResponse();

      assertThat(backend.connectionsAccepted()).isEqualTo(1);
      assertThat(backend.openConnections()).isEqualTo(1);
    }
    await().atMost(WAIT).until(() -> backend.openConnections() == 0);
  }

  @Test
  void connectionCloseIsHonoured() throws IOException {
    try (RawHttpClient client = RawHttpClient.connect(backend.port())) {
      RawResponse response = client.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").readResponse();

      assertThat(response.headers().hasToken("connection", "close")).isTrue();
      assertThat(client.isClosedByPeer(WAIT)).isTrue();
    }
  }

  @Test
  void http10WithoutKeepAliveIsClosedAfterTheResponse() throws IOException {
    try (RawHttpClient client = RawHttpClient.connect(backend.port())) {
      RawResponse response = client.send("GET / HTTP/1.0\r\n\r\n").readResponse();

      assertThat(response.bodyString()).isEqualTo("alpha");
      assertThat(client.isClosedByPeer(WAIT)).isTrue();
    }
  }

  @Test
  void malformedRequestGets400AndClose() throws IOException {
    try (RawHttpClient client = RawHttpClient.connect(backend.port())) {
      RawResponse response = client.send("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n").readResponse();

      assertThat(response.status()).isEqualTo(400);
      assertThat(client.isClosedByPeer(WAIT)).isTrue();
    }
  }

  @Test
  void delayHoldsEveryAnswer() throws IOException {
    backend.setDelayMillis(200);
    try (RawHttpClient client = RawHttpClient.connect(backend.port())) {
      long start = System.nanoTime();
      client.get("/").readResponse();

      assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
    }
  }

  @Test
  void pausedReadingHoldsRequestsUntilResumed() throws IOException {
    try (RawHttpClient client = RawHttpClient.connect(backend.port())) {
      assertThat(client.get("/").readResponse().status()).isEqualTo(200);
      backend.pauseReading();
      client.get("/status?code=202");

      assertThatThrownBy(() -> client.readResponse(Duration.ofMillis(300)))
          .isInstanceOf(SocketTimeoutException.class);
      backend.resumeReading();
      assertThat(client.readResponse().status()).isEqualTo(202);
    }
  }

  @Test
  void closeEndsTheBackendsThread() {
    TestBackend other = TestBackend.start("gamma");
    assertThat(threadsNamed("backend-gamma")).isNotEmpty();

    other.close();

    // The termination future completes on the loop thread just before that thread returns.
    await().atMost(WAIT).until(() -> threadsNamed("backend-gamma").isEmpty());
    assertThatThrownBy(() -> RawHttpClient.connect(other.port())).isInstanceOf(ConnectException.class);
  }

  private static long usedDirectMemory() {
    return ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric().usedDirectMemory();
  }

  private static List<Thread> threadsNamed(String prefix) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith(prefix) && t.isAlive())
        .toList();
  }

  private static String get(String target) {
    return "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n";
  }

  private static HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
    return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
  }
}
