package dev.lb.it;

import static dev.lb.it.LbAssertions.assertJsonError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lb.it.support.Corpus;
import dev.lb.it.support.Corpus.Vector;
import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.RawResponse;
import dev.lb.it.support.RecordedRequest;
import dev.lb.it.support.TestBackend;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

/**
 * Replays the hostile-request corpus ({@code src/test/resources/corpus/*.vectors}) over real sockets to a balancer in
 * front of one recording backend, one vector per connection: the statuses come back in order, the balancer's own
 * answers are the contract's JSON, a refused request closes the connection, and the backend receives exactly the
 * requests it should, each once, with the framing and fields expected.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CorpusIT {
  /** The corpus may grow; it must not silently shrink. */
  private static final int MIN_VECTORS = 150;
  private static final int MAX_BODY = 1 << 20;
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final List<Vector> vectors = Corpus.load();
  private TestBackend backend;
  private Lb lb;

  @BeforeAll
  void start() throws Exception {
    backend = TestBackend.start("b1");
    lb = Lb.builder()
        .backends(backend)
        .set("proxy.max_body_size", Integer.toString(MAX_BODY))
        .set("logging.access_log", "false")
        // routes.vectors: /private/ leads to an upstream with no backend that may take traffic (503).
        .set("upstreams.private", "{ backends: [ { url: \"http://127.0.0.1:9\", weight: 0 } ] }")
        .yaml("""
            routes:
              - { path_prefix: /private/, upstream: private }
              - { path_prefix: /strip/, upstream: default, strip_prefix: true }""")
        .start();
  }

  @AfterAll
  void stop() {
    if (lb != null) {
      lb.close();
    }
    if (backend != null) {
      backend.close();
    }
  }

  @Test
  void theCorpusHasAtLeast150VectorsOfEveryRequiredClass() {
    assertThat(vectors).hasSizeGreaterThanOrEqualTo(MIN_VECTORS);
    assertThat(vectors.stream().map(Vector::kind).distinct())
        .contains("smuggling", "line-endings", "header-syntax", "chunked", "request-line", "host", "limits",
            "pipelining", "valid", "routes");
    assertThat(vectors.stream().filter(v -> v.backendRequests() == 0).count())
        .as("refused vectors").isGreaterThanOrEqualTo(100);
    assertThat(vectors.stream().filter(v -> v.statuses().size() > 1).count())
        .as("pipelined vectors").isGreaterThanOrEqualTo(10);
  }

  @TestFactory
  Stream<DynamicTest> everyVectorHasItsExpectedOutcome() {
    return vectors.stream().map(v -> DynamicTest.dynamicTest(v.toString() + (v.note().isEmpty() ? "" : ": " + v.note()),
        () -> replay(v)));
  }

  private void replay(Vector v) throws Exception {
    backend.clearRecordedRequests();
    long headsBefore = backend.requests();
    long completeBefore = backend.completeRequests();
    boolean probed = false;
    try (RawHttpClient client = RawHttpClient.connect(lb.port()).timeout(WAIT)) {
      try {
        client.send(v.request());
      } catch (IOException e) {
        // The balancer may answer and close before reading all of a long request: the answer is still there to read.
      }
      List<RawResponse> responses = new ArrayList<>();
      for (int i = 0; i < v.statuses().size(); i++) {
        RawResponse r = isHead(v, i) ? client.readResponseToHead() : client.readResponse();
        responses.add(r);
        check(v, r, v.statuses().get(i));
      }
      if (v.close()) {
        assertThat(client.isClosedByPeer(WAIT)).as("%s: connection closed after the answers", v).isTrue();
      } else {
        assertThat(client.isClosedByPeer(Duration.ofMillis(200))).as("%s: connection kept open", v).isFalse();
        RawResponse probe = client.send("GET /status?code=200 HTTP/1.1\r\nHost: probe\r\n\r\n").readResponse();
        assertThat(probe.status()).as("%s: a request after it on the same connection", v).isEqualTo(200);
        probed = true;
      }
      if (v.echo() != null) {
        RawResponse first = responses.stream().filter(r -> r.status() / 100 == 2).findFirst().orElseThrow();
        assertThat(first.body()).as("%s: body the backend received (echoed)", v).isEqualTo(v.echo());
      }
    }
    long expected = v.backendRequests() + (probed ? 1 : 0);
    await().atMost(WAIT).untilAsserted(() -> assertThat(backend.completeRequests() - completeBefore)
        .as("%s: complete requests the backend received", v).isEqualTo(expected));
    long heads = backend.requests() - headsBefore;
    assertThat(heads).as("%s: request heads the backend received", v).isBetween(expected, expected + 1);
    if (heads > expected) {
      assertThat(v.kind()).as("%s: only a chunked body found bad after its head went on reaches the backend half", v)
          .isIn("chunked", "limits");
    }
    checkForwarded(v, backend.recordedRequests());
    checkTrailers(v, backend.recordedTrailers());
  }

  private static boolean isHead(Vector v, int response) {
    return response == 0 && new String(v.request(), 0, Math.min(5, v.request().length), StandardCharsets.ISO_8859_1)
        .equals("HEAD ");
  }

  private static void check(Vector v, RawResponse r, int status) {
    if (status >= 400) {
      assertJsonError(r, status, messageOf(status));
      if (v.close()) {
        assertThat(r.header("Connection")).as("%s: Connection of %s", v, r).isEqualToIgnoringCase("close");
      }
    } else {
      assertThat(r.status()).as("%s: status of %s", v, r).isEqualTo(status);
    }
  }

  private static String messageOf(int status) {
    return switch (status) {
      case 400 -> "Bad request";
      case 405 -> "Method not allowed";
      case 413 -> "Payload too large";
      case 414 -> "URI too long";
      case 431 -> "Request header fields too large";
      case 503 -> "No healthy backends";
      default -> throw new IllegalArgumentException("no contract message for " + status);
    };
  }

  private static void checkForwarded(Vector v, List<RecordedRequest> recorded) {
    if (v.headers().isEmpty() && v.absent().isEmpty() && v.uri() == null) {
      return;
    }
    assertThat(recorded).as("%s: requests the backend recorded", v).isNotEmpty();
    RecordedRequest first = recorded.get(0);
    for (Map.Entry<String, String> field : v.headers()) {
      assertThat(first.headers().getAll(field.getKey()))
          .as("%s: %s fields the backend saw in %s", v, field.getKey(), first)
          .containsExactly(field.getValue());
    }
    for (String name : v.absent()) {
      assertThat(first.headers().contains(name)).as("%s: %s forwarded in %s", v, name, first).isFalse();
    }
    if (v.uri() != null) {
      assertThat(first.uri()).as("%s: target the backend saw", v).isEqualTo(v.uri());
    }
  }

  private static void checkTrailers(Vector v, List<HttpHeaders> recorded) {
    if (v.trailers().isEmpty() && v.absentTrailers().isEmpty()) {
      return;
    }
    assertThat(recorded).as("%s: complete requests the backend recorded", v).isNotEmpty();
    HttpHeaders first = recorded.get(0);
    for (Map.Entry<String, String> field : v.trailers()) {
      assertThat(first.getAll(field.getKey()))
          .as("%s: %s trailer fields the backend saw in %s", v, field.getKey(), first)
          .containsExactly(field.getValue());
    }
    for (String name : v.absentTrailers()) {
      assertThat(first.contains(name)).as("%s: %s forwarded as a trailer in %s", v, name, first).isFalse();
    }
  }

  @Test
  void everyStatusTheCorpusExpectsIsAContractAnswer() {
    for (Vector v : vectors) {
      for (int status : v.statuses()) {
        if (status >= 400) {
          assertThat(messageOf(status)).isEqualTo(
              dev.lb.proxy.ErrorResponses.message(HttpResponseStatus.valueOf(status)));
        }
      }
    }
  }
}
