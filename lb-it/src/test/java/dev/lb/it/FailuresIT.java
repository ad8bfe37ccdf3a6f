package dev.lb.it;

import static dev.lb.it.LbAssertions.assertJsonError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.lb.it.support.Ports;
import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.RawResponse;
import dev.lb.it.support.ResponseBody;
import dev.lb.it.support.ResponseHead;
import dev.lb.it.support.SlowReader;
import dev.lb.it.support.StreamingUploader;
import dev.lb.it.support.TestBackend;
import dev.lb.it.support.Throttle;
import dev.lb.it.support.Transfer;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Backend failures: refused connections are retried on another backend, a request already sent is retried only when
 * idempotent, spent retries give 502, a silent backend 504, a response cut short cuts the client connection, and
 * the backend's own error statuses pass through untouched.
 */
class FailuresIT {
  private final List<AutoCloseable> resources = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
  }

  private TestBackend backend(String name) {
    TestBackend b = TestBackend.start(name);
    resources.add(b);
    return b;
  }

  private RawBackend dropping(boolean reset) throws IOException {
    RawBackend b = RawBackend.dropping(reset);
    resources.add(b);
    return b;
  }

  private static String refusedUrl() {
    return "http://127.0.0.1:" + Ports.refusedPort();
  }

  @Test
  void refusedBackendsAmongLiveOnesAreSkipped() throws Exception {
    TestBackend b1 = backend("b1");
    TestBackend b2 = backend("b2");
    try (Lb lb = Lb.builder().backend(refusedUrl()).backend(b1.url()).backend(refusedUrl()).backend(b2.url())
        .start()) {
      List<String> names = new ArrayList<>();
      try (RawHttpClient keepAlive = RawHttpClient.connect(lb.port())) {
        for (int i = 0; i < 12; i++) {
          RawResponse response = keepAlive.get("/").readResponse();
          assertThat(response.status()).as("%s", response).isEqualTo(200);
          names.add(response.bodyString());
        }
      }
      for (int i = 0; i < 12; i++) {
        try (RawHttpClient client = RawHttpClient.connect(lb.port())) {
          RawResponse response = client.get("/").readResponse();
          assertThat(response.status()).as("%s", response).isEqualTo(200);
          names.add(response.bodyString());
        }
      }

      assertThat(names).containsOnly("b1", "b2").contains("b1", "b2");
    }
  }

  @Test
  void aRefusedConnectionIsRetriedForAPostToo() throws Exception {
    TestBackend b1 = backend("b1");
    try (Lb lb = Lb.builder().backend(refusedUrl()).backend(b1.url()).start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      RawResponse response =
          client.send("POST /echo HTTP/1.1\r\nHost: lb\r\nContent-Length: 5\r\n\r\nhello").readResponse();

      assertThat(response.status()).as("%s", response).isEqualTo(200);
      assertThat(response.bodyString()).isEqualTo("hello");
    }
  }

  @Test
  void allBackendsRefusedGives502() throws Exception {
    try (Lb lb = Lb.builder().backend(refusedUrl()).backend(refusedUrl()).backend(refusedUrl()).start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      RawResponse response = client.get("/").readResponse();

      assertJsonError(response, 502, "Bad gateway");
      assertThat(response.header("X-Request-Id")).isNotBlank();
    }
  }

  @Test
  void noBackendInRotationGives503() throws Exception {
    TestBackend b1 = backend("b1");
    try (Lb lb = Lb.builder().backend(b1.url(), 0).start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      assertJsonError(client.get("/").readResponse(), 503, "No healthy backends");
      assertThat(b1.requests()).isZero();
    }
  }

  @Test
  void theResponseTimeoutCoversOnlyTheWaitForTheResponseHead() throws Exception {
    TestBackend b1 = backend("b1");
    try (Lb lb = Lb.builder().set("proxy.response_timeout", "500ms").backends(b1).start()) {
      // A body that takes seconds to read, after a head that came at once.
      Transfer download = SlowReader.download(lb.port(), "/bytes?n=" + (3 << 20) + "&seed=2", Throttle.kibEvery(64, 50));
      assertThat(download.status()).isEqualTo(200);
      assertThat(download.bodyBytes()).isEqualTo(3 << 20);
      assertThat(download.sha256()).isEqualTo(TestBackend.expectedSha256(3 << 20, 2));

      // A request body that takes seconds to send.
      Transfer upload = StreamingUploader.post("/sha256", 1 << 20).seed(3).throttle(Throttle.kibEvery(64, 120))
          .sendTo(lb.port());
      assertThat(upload.status()).as("%s", upload).isEqualTo(200);
      assertThat(LbAssertions.json(upload.bodyString()).path("sha256").asText())
          .isEqualTo(dev.lb.it.support.PseudoRandomBytes.sha256(1 << 20, 3));

      // A head that comes within the timeout.
      try (RawHttpClient client = RawHttpClient.connect(lb.port())) {
        assertThat(client.get("/slow?ms=200").readResponse().status()).isEqualTo(200);
      }
    }
  }

  @Test
  void noMoreThanMaxRetriesOtherBackendsAreTried() throws Exception {
    TestBackend b1 = backend("b1");
    try (Lb lb = Lb.builder().set("proxy.max_retries", "1")
        .backend(refusedUrl()).backend(refusedUrl()).backend(b1.url()).start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      // Round robin starts at the first backend: two refusals spend the one retry.
      assertJsonError(client.get("/").readResponse(), 502, "Bad gateway");
      assertThat(b1.requests()).isZero();
    }
  }

  @Test
  void aStalledBackendGives504AfterTheResponseTimeout() throws Exception {
    TestBackend b1 = backend("b1");
    try (Lb lb = Lb.builder().set("proxy.response_timeout", "500ms").backends(b1).start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      long start = System.nanoTime();
      RawResponse response = client.get("/stall").readResponse(Duration.ofSeconds(10));
      Duration took = Duration.ofNanos(System.nanoTime() - start);

      assertJsonError(response, 504, "Gateway timeout");
      assertThat(took).isBetween(Duration.ofMillis(400), Duration.ofSeconds(5));
      assertThat(b1.requests()).isEqualTo(1);

      // The stalled backend connection is not handed to the next request.
      RawResponse next = client.get("/").readResponse();
      assertThat(next.status()).as("%s", next).isEqualTo(200);
      assertThat(b1.connectionsAccepted()).isEqualTo(2);
    }
  }

  @ParameterizedTest(name = "reset={0}")
  @ValueSource(booleans = {false, true})
  void aGetDroppedByItsBackendIsRetriedOnAnother(boolean reset) throws Exception {
    RawBackend bad = dropping(reset);
    TestBackend good = backend("good");
    try (Lb lb = Lb.builder().backend(bad.url()).backend(good.url()).start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      RawResponse response = client.get("/").readResponse();

      assertThat(response.status()).as("%s", response).isEqualTo(200);
      assertThat(response.bodyString()).isEqualTo("good");
      assertThat(bad.requestHeads()).as("requests the dropping backend saw").isEqualTo(1);
    }
  }

  @ParameterizedTest(name = "reset={0}")
  @ValueSource(booleans = {false, true})
  void aPostDroppedByItsBackendAfterItWasSentGives502(boolean reset) throws Exception {
    RawBackend bad = dropping(reset);
    TestBackend good = backend("good");
    try (Lb lb = Lb.builder().backend(bad.url()).backend(good.url()).start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      RawResponse response =
          client.send("POST /echo HTTP/1.1\r\nHost: lb\r\nContent-Length: 5\r\n\r\nhello").readResponse();

      assertJsonError(response, 502, "Bad gateway");
      assertThat(bad.requestHeads()).isEqualTo(1);
      assertThat(good.requests()).as("a POST already sent is not sent again").isZero();
    }
  }

  @ParameterizedTest(name = "chunked={0}")
  @ValueSource(booleans = {false, true})
  void aBackendKilledMidBodyCutsTheClientConnection(boolean chunked) throws Exception {
    TestBackend b1 = backend("b1");
    try (Lb lb = Lb.builder().backends(b1).start();
        RawHttpClient client = RawHttpClient.connect("127.0.0.1", lb.port(), 64 * 1024)) {
      client.get("/bytes?n=" + (100L << 20) + "&chunked=" + chunked);
      ResponseHead head = client.readHead(false);
      assertThat(head.status()).isEqualTo(200);
      InputStream body = client.body(head);
      byte[] buffer = new byte[64 * 1024];
      long read = 0;
      while (read < (1 << 20)) {
        int n = body.read(buffer);
        assertThat(n).isPositive();
        read += n;
      }

      b1.stop();

      assertThatThrownBy(() -> {
        while (body.read(buffer) >= 0) {
          // The rest of what was under way, then the cut.
        }
      }).as("reading a body whose backend died").isInstanceOfAny(EOFException.class, SocketException.class);
      assertThat(((ResponseBody) body).bytesRead()).isLessThan(100L << 20);
    }
  }

  @ParameterizedTest(name = "chunked={0}")
  @ValueSource(booleans = {false, true})
  void aResponseCutShortIsNotRetriedAndCutsTheClientConnection(boolean chunked) throws Exception {
    String part = "x".repeat(1000);
    RawBackend cut = RawBackend.answering(chunked
        ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n" + part + "\r\n3e8\r\n" + part
        : "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + part);
    resources.add(cut);
    TestBackend good = backend("good");
    try (Lb lb = Lb.builder().backend(cut.url()).backend(good.url()).start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      client.get("/");
      ResponseHead head = client.readHead(false);
      assertThat(head.status()).isEqualTo(200);

      assertThatThrownBy(() -> client.body(head).readAllBytes())
          .as("reading a body its backend cut short").isInstanceOfAny(EOFException.class, SocketException.class);
      assertThat(good.requests()).as("no retry once response bytes reached the client").isZero();
    }
  }

  @Test
  void aBackendClosingItsConnectionLeavesTheClientConnectionOpen() throws Exception {
    RawBackend closing =
        RawBackend.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    resources.add(closing);
    try (Lb lb = Lb.builder().backend(closing.url()).start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      for (int i = 0; i < 3; i++) {
        RawResponse response = client.get("/").readResponse();
        assertThat(response.status()).as("%s", response).isEqualTo(200);
        assertThat(response.bodyString()).isEqualTo("ok");
        assertThat(response.headers().hasToken("Connection", "close")).as("%s", response).isFalse();
      }
      assertThat(closing.requestHeads()).isEqualTo(3);
    }
  }

  @Test
  void pooledConnectionsTheBackendClosedAreNotUsedAgain() throws Exception {
    List<TestBackend> three = List.of(backend("b1"), backend("b2"), backend("b3"));
    try (Lb lb = Lb.builder().backends(three.toArray(TestBackend[]::new)).start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      for (int i = 0; i < 30; i++) {
        RawResponse response = client.get("/").readResponse();
        assertThat(response.status()).as("request %d: %s", i, response).isEqualTo(200);
        // Idle pooled connections die under the balancer, as when a backend's keep-alive timeout passes.
        three.get(i % 3).closeConnections();
      }
    }
  }

  @Test
  void aClientThatGoesAwayMidDownloadReleasesTheBackendConnection() throws Exception {
    TestBackend b1 = backend("b1");
    try (Lb lb = Lb.builder().backends(b1).start()) {
      int before = b1.openConnections();
      RawHttpClient client = RawHttpClient.connect("127.0.0.1", lb.port(), 64 * 1024);
      client.get("/bytes?n=" + (100L << 20));
      ResponseHead head = client.readHead(false);
      assertThat(client.body(head).readNBytes(1 << 20)).hasSize(1 << 20);
      assertThat(b1.openConnections()).isGreaterThan(before);

      client.abort();

      await("the backend connection closes").atMost(Duration.ofSeconds(5))
          .until(() -> b1.openConnections() == before);
      try (RawHttpClient next = RawHttpClient.connect(lb.port())) {
        assertThat(next.get("/").readResponse().bodyString()).isEqualTo("b1");
      }
    }
  }

  @Test
  void aBackendErrorStatusPassesThroughAndIsNotRetried() throws Exception {
    List<TestBackend> three = List.of(backend("b1"), backend("b2"), backend("b3"));
    try (Lb lb = Lb.builder().backends(three.toArray(TestBackend[]::new)).start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      RawResponse response = client.get("/status?code=503").readResponse();

      assertThat(response.status()).isEqualTo(503);
      assertThat(response.bodyString()).isEqualTo("b1 503");
      assertThat(response.header("Content-Type")).startsWith("text/plain");
      assertThat(three.stream().mapToLong(TestBackend::requests).sum()).isEqualTo(1);
      assertThat(client.get("/status?code=500").readResponse().bodyString()).isEqualTo("b2 500");
      assertThat(three.stream().mapToLong(TestBackend::requests).sum()).isEqualTo(2);
    }
  }
}
