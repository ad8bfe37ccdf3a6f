package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lb.it.support.PrometheusText;
import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.RawResponse;
import dev.lb.it.support.TestBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Backend failures handled as Envoy and HAProxy handle them, over real sockets: a failing health path takes a backend
 * out whatever its traffic does; outlier detection ejects resetting backends but never more than half of the pool;
 * retries within their budget when every backend fails; a capped backend never sees more connections than its cap,
 * and requests beyond it wait in order, or get 503 when the queue is full or their wait times out.
 */
class BackendFailuresIT {
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final List<TestBackend> started = new ArrayList<>();

  @AfterEach
  void stopBackends() {
    started.forEach(TestBackend::close);
  }

  private TestBackend[] backends(int n) {
    TestBackend[] list = new TestBackend[n];
    for (int i = 0; i < n; i++) {
      list[i] = TestBackend.start("b" + (i + 1));
      started.add(list[i]);
    }
    return list;
  }

  private JsonNode backends(Lb lb) throws Exception {
    return lb.backendsJson();
  }

  private JsonNode backend(Lb lb, TestBackend which) throws Exception {
    return lb.backendJson(which.url());
  }

  private PrometheusText metrics(Lb lb) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + lb.adminPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
    return PrometheusText.parse(r.body());
  }

  private static double value(PrometheusText m, String name, String label, String labelValue) {
    return m.valueOrZero(name + "{" + label + "=\"" + labelValue + "\"}");
  }

  /** GETs in a loop from {@code threads} keep-alive connections until closed, recording every non-200 answer. */
  private static final class Traffic implements AutoCloseable {
    final List<String> failures = new CopyOnWriteArrayList<>();
    final AtomicLong answered = new AtomicLong();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final ExecutorService pool;
    private final List<Future<?>> loops = new ArrayList<>();

    Traffic(int port, int threads, long pauseMillis, int expectedStatus) {
      pool = Executors.newFixedThreadPool(threads);
      for (int t = 0; t < threads; t++) {
        loops.add(pool.submit(() -> {
          RawHttpClient client = null;
          while (running.get()) {
            try {
              if (client == null) {
                client = RawHttpClient.connect(port);
              }
              RawResponse r = client.get("/").readResponse();
              answered.incrementAndGet();
              if (r.status() != expectedStatus) {
                failures.add(r.status() + " " + r.bodyString());
              }
              if (r.header("connection") != null && r.header("connection").equalsIgnoreCase("close")) {
                client.close();
                client = null;
              }
              if (pauseMillis > 0) {
                Thread.sleep(pauseMillis);
              }
            } catch (InterruptedException e) {
              break;
            } catch (Exception e) {
              failures.add(e.toString());
              client = null;
            }
          }
          if (client != null) {
            client.close();
          }
          return null;
        }));
      }
    }

    @Override
    public void close() throws Exception {
      running.set(false);
      for (Future<?> f : loops) {
        f.get(30, TimeUnit.SECONDS);
      }
      pool.shutdown();
    }
  }

  @Test
  void aBackendWhoseHealthPathFailsLeavesRotationUnderSteadyLoadAndComesBackAfterPassingProbes() throws Exception {
    int interval = 300;
    int timeout = 200;
    TestBackend[] b = backends(3);
    try (Lb lb = Lb.builder().workers(2).backends(b)
            .set("health_check.enabled", "true")
            .set("health_check.interval", interval + "ms")
            .set("health_check.timeout", timeout + "ms")
            .set("health_check.unhealthy_threshold", "3")
            .set("health_check.healthy_threshold", "2")
            .start();
        Traffic traffic = new Traffic(lb.port(), 2, 5, 200)) {
      await().atMost(Duration.ofSeconds(20)).until(() -> b[1].requests() > 20);

      long failing = System.nanoTime();
      b[1].setHealthStatus(503);
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(10))
          .until(() -> !backend(lb, b[1]).path("healthy").asBoolean());
      long outMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - failing);
      JsonNode out = backend(lb, b[1]);
      assertThat(out.path("active").asText()).isEqualTo("down");
      assertThat(out.path("state").asText()).isEqualTo("down");
      assertThat(out.path("ejected").asBoolean()).as("traffic to it kept succeeding").isFalse();
      assertThat(out.path("last_check_result").asText()).isEqualTo("status 503");
      assertThat(out.path("state_reason").asText()).isEqualTo("3 consecutive failing probes, the last: status 503");
      // Three failing probes: the first at most one interval after the switch, two more an interval apart, each
      // answered within the timeout; a generous second on top for a busy machine.
      assertThat(outMs).as("out within unhealthy_threshold x interval").isLessThan(3L * interval + timeout + 1_000);

      long mainPathBefore = mainPath(b[1]);
      long answeredBefore = traffic.answered.get();
      await().atMost(Duration.ofSeconds(20)).until(() -> traffic.answered.get() > answeredBefore + 200);
      assertThat(mainPath(b[1])).as("no traffic while its health path fails").isEqualTo(mainPathBefore);
      assertThat(backend(lb, b[1]).path("healthy").asBoolean()).as("and traffic does not bring it back").isFalse();

      long passing = System.nanoTime();
      b[1].setHealthStatus(200);
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(10))
          .until(() -> backend(lb, b[1]).path("healthy").asBoolean());
      long backMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - passing);
      assertThat(backend(lb, b[1]).path("state_reason").asText())
          .isEqualTo("2 consecutive passing probes (status 200)");
      assertThat(backMs).as("back after healthy_threshold passes").isLessThan(2L * interval + timeout + 1_000);
      await().atMost(Duration.ofSeconds(20)).until(() -> mainPath(b[1]) > mainPathBefore);

      traffic.close();
      assertThat(traffic.failures).as("failed client requests").isEmpty();
      System.out.printf("health path 503 under load: out after %d ms, back %d ms after it passed again; %d requests,"
          + " none failed%n", outMs, backMs, traffic.answered.get());
    }
  }

  private static long mainPath(TestBackend b) {
    return b.recordedRequests().stream().filter(r -> !r.path().equals("/health")).count();
  }

  @Test
  void threeOfFiveBackendsResettingGetAtMostHalfThePoolEjectedAndNoRequestFails() throws Exception {
    TestBackend[] b = backends(5);
    try (Lb lb = Lb.builder().workers(2).backends(b)
            // Four attempts in all: among five backends of which three fail, one of them always works.
            .set("proxy.max_retries", "3")
            .set("health_check.passive", "{consecutive_errors: 5, base_ejection_time: 60s, max_ejection_percent: 50}")
            .start()) {
      for (int i = 0; i < 3; i++) {
        b[i].setResetting(true);
      }
      AtomicInteger mostEjected = new AtomicInteger();
      try (Traffic traffic = new Traffic(lb.port(), 3, 0, 200)) {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (System.nanoTime() < until || traffic.answered.get() < 300) {
          int ejected = 0;
          for (JsonNode n : backends(lb)) {
            ejected += n.path("ejected").asBoolean() ? 1 : 0;
          }
          mostEjected.accumulateAndGet(ejected, Math::max);
          Thread.sleep(20);
        }
        traffic.close();
        assertThat(traffic.failures).as("failed client requests (%d answered)", traffic.answered.get()).isEmpty();
      }
      assertThat(mostEjected.get()).as("never more than half of five ejected").isLessThanOrEqualTo(2);
      int ejected = 0;
      for (int i = 0; i < 5; i++) {
        JsonNode n = backend(lb, b[i]);
        ejected += n.path("ejected").asBoolean() ? 1 : 0;
        if (i >= 3) {
          assertThat(n.path("ejected").asBoolean()).as("%s works", b[i].url()).isFalse();
        } else if (n.path("ejected").asBoolean()) {
          assertThat(n.path("ejected_until").asText()).isNotEmpty();
          assertThat(n.path("ejections").asInt()).isEqualTo(1);
          assertThat(n.path("state").asText()).isEqualTo("ejected");
          assertThat(n.path("active").asText()).isEqualTo("off");
          assertThat(n.path("last_error").asText()).isNotEmpty();
        }
      }
      assertThat(ejected).as("two of the three resetting backends ejected").isEqualTo(2);
      PrometheusText m = metrics(lb);
      double ejections = 0;
      for (TestBackend t : b) {
        ejections += m.valueOrZero(
            "lb_backend_ejections_total{backend=\"" + t.url() + "\",upstream=\"default\"}");
      }
      assertThat(ejections).isEqualTo(2);
    }
  }

  @Test
  void whenEveryBackendFailsRetriesStayWithinTheirBudget() throws Exception {
    TestBackend[] b = backends(3);
    for (TestBackend t : b) {
      t.setResetting(true);
    }
    long clientRequests;
    try (Lb lb = Lb.builder().workers(2).backends(b)
            .set("health_check.passive", "{enabled: false}")
            .start()) {
      try (Traffic traffic = new Traffic(lb.port(), 30, 0, 502)) {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (System.nanoTime() < until || traffic.answered.get() < 1_000) {
          Thread.sleep(50);
        }
        traffic.close();
        clientRequests = traffic.answered.get();
        assertThat(traffic.failures).as("every answer is lb's 502").isEmpty();
      }
      long attempts = 0;
      for (TestBackend t : b) {
        attempts += t.requests();
      }
      double ratio = (double) attempts / clientRequests;
      PrometheusText m = metrics(lb);
      System.out.printf("every backend failing: %d client requests, %d upstream attempts (%.3fx), %.0f retries"
          + " skipped for the budget%n", clientRequests, attempts, ratio,
          value(m, "lb_retries_skipped_total", "reason", "budget"));
      assertThat(ratio).as("upstream attempts per client request").isLessThanOrEqualTo(1.2);
      assertThat(value(m, "lb_retries_skipped_total", "reason", "budget")).isPositive();
    }
  }

  @Test
  void aCappedBackendNeverSeesMoreThanItsConnectionsAndEveryQueuedRequestIsServed() throws Exception {
    TestBackend capped = backends(1)[0];
    capped.setDelayMillis(20);
    try (Lb lb = Lb.builder().workers(2)
            .backendLine("{url: \"" + capped.url() + "\", max_connections: 4}")
            .set("proxy.queue", "{max_size: 1000, timeout: 30s}")
            .start()) {
      ExecutorService clients = Executors.newFixedThreadPool(50);
      List<Future<List<Integer>>> results = new ArrayList<>();
      for (int c = 0; c < 50; c++) {
        results.add(clients.submit(() -> {
          List<Integer> statuses = new ArrayList<>();
          try (RawHttpClient client = RawHttpClient.connect(lb.port()).timeout(Duration.ofSeconds(60))) {
            for (int i = 0; i < 10; i++) {
              statuses.add(client.get("/").readResponse().status());
            }
          }
          return statuses;
        }));
      }
      AtomicInteger longestQueue = new AtomicInteger();
      while (results.stream().anyMatch(f -> !f.isDone())) {
        longestQueue.accumulateAndGet((int) metrics(lb).valueOrZero("lb_queue_length"), Math::max);
        Thread.sleep(20);
      }
      for (Future<List<Integer>> f : results) {
        assertThat(f.get()).containsOnly(200);
      }
      clients.shutdown();
      assertThat(capped.maxOpenConnections()).as("connections the backend saw at once").isBetween(1, 4);
      assertThat(capped.requests()).isEqualTo(500);
      assertThat(longestQueue.get()).as("requests waited").isPositive();
      assertThat(metrics(lb).valueOrZero("lb_queue_wait_seconds_count")).isGreaterThan(0);
      System.out.printf("capped backend: 500 requests from 50 clients over at most %d connections, up to %d"
          + " queued%n", capped.maxOpenConnections(), longestQueue.get());
    }
  }

  @Test
  void queuedRequestsAreServedInTheOrderTheyArrived() throws Exception {
    TestBackend capped = backends(1)[0];
    try (Lb lb = Lb.builder().workers(2)
            .backendLine("{url: \"" + capped.url() + "\", max_connections: 1}")
            .set("proxy.queue", "{timeout: 30s}")
            .start()) {
      ExecutorService clients = Executors.newFixedThreadPool(6);
      List<Future<Integer>> results = new ArrayList<>();
      // Long enough for five more requests to be seen queued behind it on a busy machine.
      results.add(clients.submit(() -> status(lb, "/slow?ms=6000")));
      await().atMost(Duration.ofSeconds(10)).until(() -> capped.requests() == 1);
      for (int i = 1; i <= 5; i++) {
        String target = "/?n=" + i;
        results.add(clients.submit(() -> status(lb, target)));
        int waiting = i;
        await().atMost(Duration.ofSeconds(10)).until(() -> metrics(lb).valueOrZero("lb_queue_length") == waiting);
      }
      for (Future<Integer> f : results) {
        assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(200);
      }
      clients.shutdown();
      assertThat(capped.recordedRequests()).extracting(r -> r.uri())
          .containsExactly("/slow?ms=6000", "/?n=1", "/?n=2", "/?n=3", "/?n=4", "/?n=5");
      assertThat(capped.maxOpenConnections()).isEqualTo(1);
    }
  }

  private static int status(Lb lb, String target) throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(lb.port()).timeout(Duration.ofSeconds(30))) {
      return client.get(target).readResponse().status();
    }
  }

  @Test
  void aFullQueueAnswers503AtOnceAndAWaitOverTheQueueTimeoutAnswers503() throws Exception {
    TestBackend capped = backends(1)[0];
    try (Lb lb = Lb.builder().workers(1)
            .backendLine("{url: \"" + capped.url() + "\", max_connections: 1}")
            // A queue timeout long enough to see the request queued (a metrics scrape) on a busy machine.
            .set("proxy.queue", "{max_size: 1, timeout: 3s}")
            .start();
        RawHttpClient busy = RawHttpClient.connect(lb.port()).timeout(Duration.ofSeconds(30));
        RawHttpClient waiting = RawHttpClient.connect(lb.port()).timeout(Duration.ofSeconds(30));
        RawHttpClient refused = RawHttpClient.connect(lb.port()).timeout(Duration.ofSeconds(30))) {
      busy.get("/slow?ms=8000");
      await().atMost(Duration.ofSeconds(10)).until(() -> capped.requests() == 1);
      long t0 = System.nanoTime();
      waiting.get("/?n=waits");
      await().atMost(Duration.ofSeconds(10)).until(() -> metrics(lb).valueOrZero("lb_queue_length") == 1);

      RawResponse full = refused.get("/?n=refused").readResponse();
      assertThat(full.status()).isEqualTo(503);
      assertThat(full.header("content-type")).isEqualTo("application/json");
      assertThat(full.bodyString())
          .isEqualTo("{\"code\":503,\"message\":\"Queue full: every backend is at max_connections\"}");

      RawResponse timedOut = waiting.readResponse();
      long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertThat(timedOut.status()).isEqualTo(503);
      assertThat(timedOut.bodyString())
          .isEqualTo("{\"code\":503,\"message\":\"Queue timeout: no backend connection freed up in time\"}");
      assertThat(waitedMs).as("answered after the queue timeout").isGreaterThanOrEqualTo(3000);

      assertThat(busy.readResponse().status()).isEqualTo(200);
      assertThat(capped.recordedRequests()).extracting(r -> r.uri()).containsExactly("/slow?ms=8000");
      PrometheusText m = metrics(lb);
      assertThat(value(m, "lb_queue_rejected_total", "reason", "full")).isEqualTo(1);
      assertThat(value(m, "lb_queue_rejected_total", "reason", "timeout")).isEqualTo(1);
      assertThat(m.value("lb_queue_length")).isZero();

      // The connections stay usable: the next request on the refused one is served.
      assertThat(refused.get("/").readResponse().status()).isEqualTo(200);
    }
  }
}
