package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lb.it.support.Digests;
import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.RawResponse;
import dev.lb.it.support.ResponseHead;
import dev.lb.it.support.TestBackend;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Persistent connections on both sides: reuse of backend connections, HTTP/1.0, {@code Connection: close}, pipelining. */
class KeepAliveIT {
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

  private final List<TestBackend> backends = new ArrayList<>();

  @BeforeEach
  void startBackends() {
    for (String name : List.of("b1", "b2", "b3")) {
      backends.add(TestBackend.start(name));
    }
  }

  @AfterEach
  void closeBackends() {
    backends.forEach(TestBackend::close);
  }

  private Lb startLb(int workers) throws Exception {
    return Lb.builder().workers(workers).backends(backends.toArray(TestBackend[]::new)).start();
  }

  @ParameterizedTest(name = "workers={0}")
  @ValueSource(ints = {1, 2})
  void aThousandRequestsOverFourClientConnectionsReuseAFewBackendConnections(int workers) throws Exception {
    int connections = 4;
    int perConnection = 250;
    ExecutorService clients = Executors.newFixedThreadPool(connections);
    try (Lb lb = startLb(workers)) {
      List<Future<Integer>> done = new ArrayList<>();
      for (int c = 0; c < connections; c++) {
        Callable<Integer> task = () -> {
          int ok = 0;
          try (RawHttpClient client = RawHttpClient.connect(lb.port())) {
            for (int i = 0; i < perConnection; i++) {
              RawResponse response = client.get("/").readResponse();
              assertThat(response.status()).as("%s", response).isEqualTo(200);
              assertThat(response.headers().hasToken("Connection", "close")).as("%s", response).isFalse();
              ok++;
            }
          }
          return ok;
        };
        done.add(clients.submit(task));
      }
      int ok = 0;
      for (Future<Integer> f : done) {
        ok += f.get(60, TimeUnit.SECONDS);
      }
      assertThat(ok).isEqualTo(connections * perConnection);
    } finally {
      clients.shutdownNow();
    }

    long requests = backends.stream().mapToLong(TestBackend::requests).sum();
    long accepted = backends.stream().mapToLong(TestBackend::connectionsAccepted).sum();
    assertThat(requests).isEqualTo(connections * perConnection);
    assertThat(backends).allSatisfy(b -> assertThat(b.requests()).as("requests to %s", b).isBetween(333L, 334L));
    // At most one backend connection per client connection, backend and event loop.
    assertThat(accepted).as("backend connections for %d requests", requests)
        .isLessThanOrEqualTo((long) connections * backends.size() * workers);
  }

  @ParameterizedTest(name = "workers={0}")
  @ValueSource(ints = {1, 2})
  void concurrentConnectionsEachGetTheirOwnAnswers(int workers) throws Exception {
    int connections = 16;
    int perConnection = 50;
    ExecutorService clients = Executors.newFixedThreadPool(connections);
    try (Lb lb = startLb(workers)) {
      List<Future<?>> done = new ArrayList<>();
      for (int c = 0; c < connections; c++) {
        int connection = c;
        done.add(clients.submit(() -> {
          try (RawHttpClient client = RawHttpClient.connect(lb.port())) {
            for (int i = 0; i < perConnection; i++) {
              String id = "c" + connection + "-r" + i;
              // Bodies of different sizes and framings, so that any mix-up between exchanges shows.
              String body = id.repeat(1 + (i % 7) * 300);
              String request = i % 2 == 0
                  ? "POST /sha256 HTTP/1.1\r\nHost: lb\r\nX-Request-Id: " + id + "\r\nContent-Length: "
                      + body.length() + "\r\n\r\n" + body
                  : "POST /sha256 HTTP/1.1\r\nHost: lb\r\nX-Request-Id: " + id
                      + "\r\nTransfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(body.length()) + "\r\n"
                      + body + "\r\n0\r\n\r\n";
              RawResponse response = client.send(request).readResponse();
              assertThat(response.status()).as("%s", response).isEqualTo(200);
              assertThat(response.header("X-Request-Id")).isEqualTo(id);
              JsonNode seen = LbAssertions.json(response.bodyString());
              assertThat(seen.path("bytes").asLong()).isEqualTo(body.length());
              assertThat(seen.path("sha256").asText())
                  .isEqualTo(Digests.sha256Hex(body.getBytes(StandardCharsets.US_ASCII)));
            }
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      clients.shutdownNow();
    }
    assertThat(backends.stream().mapToLong(TestBackend::requests).sum()).isEqualTo(connections * perConnection);
  }

  @Test
  void http10WithoutKeepAliveIsClosedAfterTheResponse() throws Exception {
    try (Lb lb = startLb(1); RawHttpClient client = RawHttpClient.connect(lb.port())) {
      RawResponse response = client.send("GET / HTTP/1.0\r\n\r\n").readResponse();

      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyString()).isEqualTo("b1");
      assertThat(response.framing()).isNotEqualTo(ResponseHead.Framing.CHUNKED);
      assertThat(response.headers().hasToken("Connection", "keep-alive")).isFalse();
      assertThat(client.isClosedByPeer(CLOSE_WAIT)).as("closed after an HTTP/1.0 response").isTrue();
    }
  }

  @Test
  void http10WithKeepAliveStaysOpen() throws Exception {
    try (Lb lb = startLb(1); RawHttpClient client = RawHttpClient.connect(lb.port())) {
      List<String> names = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        RawResponse response = client.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").readResponse();

        assertThat(response.status()).as("%s", response).isEqualTo(200);
        assertThat(response.framing()).isEqualTo(ResponseHead.Framing.CONTENT_LENGTH);
        assertThat(response.headers().hasToken("Connection", "keep-alive")).as("%s", response).isTrue();
        names.add(response.bodyString());
      }

      assertThat(names).containsExactly("b1", "b2", "b3");
      assertThat(client.isClosedByPeer(Duration.ofMillis(200))).isFalse();
    }
  }

  @Test
  void http10ClientGetsAChunkedBackendResponseDelimitedByClose() throws Exception {
    try (Lb lb = startLb(1); RawHttpClient client = RawHttpClient.connect(lb.port())) {
      RawResponse response =
          client.send("GET /bytes?n=100000&chunked=true&seed=4 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
              .readResponse();

      assertThat(response.status()).isEqualTo(200);
      // HTTP/1.0 has no chunked coding: the body ends with the connection.
      assertThat(response.headers().hasToken("Transfer-Encoding", "chunked")).as("%s", response).isFalse();
      assertThat(response.body()).hasSize(100_000);
      assertThat(Digests.sha256Hex(response.body()))
          .isEqualTo(TestBackend.expectedSha256(100_000, 4));
      assertThat(client.isClosedByPeer(CLOSE_WAIT)).isTrue();
    }
  }

  @Test
  void connectionCloseIsHonoured() throws Exception {
    try (Lb lb = startLb(1); RawHttpClient client = RawHttpClient.connect(lb.port())) {
      RawResponse response = client.send("GET / HTTP/1.1\r\nHost: lb\r\nConnection: close\r\n\r\n").readResponse();

      assertThat(response.status()).isEqualTo(200);
      assertThat(response.headers().hasToken("Connection", "close")).as("%s", response).isTrue();
      assertThat(client.isClosedByPeer(CLOSE_WAIT)).as("closed after Connection: close").isTrue();
    }
  }

  @Test
  void requestsPipelinedAfterConnectionCloseAreNotServed() throws Exception {
    try (Lb lb = startLb(1); RawHttpClient client = RawHttpClient.connect(lb.port())) {
      client.send("GET / HTTP/1.1\r\nHost: lb\r\nConnection: close\r\n\r\n"
          + "GET /status?code=202 HTTP/1.1\r\nHost: lb\r\n\r\n");

      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.headers().hasToken("Connection", "close")).isTrue();
      assertThat(client.isClosedByPeer(CLOSE_WAIT)).isTrue();
    }
    assertThat(backends.stream().mapToLong(TestBackend::requests).sum()).isEqualTo(1);
  }

  @ParameterizedTest(name = "workers={0}")
  @ValueSource(ints = {1, 2})
  void pipelinedRequestsComeBackInOrder(int workers) throws Exception {
    try (Lb lb = startLb(workers); RawHttpClient client = RawHttpClient.connect(lb.port())) {
      // The first is the slowest, so a balancer that answered as backends finish would reorder them.
      client.send("GET /slow?ms=300 HTTP/1.1\r\nHost: lb\r\nX-Request-Id: p1\r\n\r\n"
          + "POST /echo HTTP/1.1\r\nHost: lb\r\nX-Request-Id: p2\r\nContent-Length: 14\r\n\r\npipelined body"
          + "GET /status?code=202 HTTP/1.1\r\nHost: lb\r\nX-Request-Id: p3\r\n\r\n");

      List<RawResponse> responses = client.readResponses(3);

      assertThat(responses).extracting(r -> r.header("X-Request-Id")).containsExactly("p1", "p2", "p3");
      assertThat(responses).extracting(RawResponse::status).containsExactly(200, 200, 202);
      assertThat(responses).extracting(RawResponse::bodyString).containsExactly("b1", "pipelined body", "b3 202");
      assertThat(client.get("/").readResponse().bodyString()).isEqualTo("b1");
    }
  }
}
