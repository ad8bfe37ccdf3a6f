package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.TestBackend;
import dev.lb.it.support.TestBackends;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The algorithms over real sockets: weights, load-aware picks around a slow backend, and stickiness. */
class BalancingIT {
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  @AutoClose private final TestBackends backends = new TestBackends();



  private String get(Lb lb, String path, String... headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lb.port() + path))
        .timeout(Duration.ofSeconds(10));
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    HttpResponse<String> r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  @Test
  void weightedRoundRobinFollowsTheWeightsExactly() throws Exception {
    TestBackend heavy = backends.start("heavy");
    TestBackend light = backends.start("light");
    try (Lb lb = Lb.builder().workers(2).backend(heavy.url(), 3).backend(light.url(), 1)
        .set("balancing.algorithm", "weighted_round_robin").start()) {
      Map<String, Integer> counts = new HashMap<>();
      List<String> firstEight = new ArrayList<>();
      for (int i = 0; i < 400; i++) {
        String name = get(lb, "/");
        counts.merge(name, 1, Integer::sum);
        if (i < 8) {
          firstEight.add(name);
        }
      }
      assertThat(counts).containsEntry("heavy", 300).containsEntry("light", 100);
      assertThat(firstEight).containsExactly("heavy", "heavy", "light", "heavy", "heavy", "heavy", "light", "heavy");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"least_connections", "power_of_two"})
  void loadAwareAlgorithmsSendClearlyFewerRequestsToASlowBackend(String algorithm) throws Exception {
    TestBackend fast1 = backends.start("fast1");
    TestBackend fast2 = backends.start("fast2");
    TestBackend slow = backends.start("slow");
    slow.setDelayMillis(50);
    try (Lb lb = Lb.builder().workers(2).backends(fast1, fast2, slow)
        .set("balancing.algorithm", algorithm).start()) {
      ExecutorService clients = Executors.newFixedThreadPool(8);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
          done.add(clients.submit(() -> {
            try (RawHttpClient client = RawHttpClient.connect(lb.port())) {
              for (int i = 0; i < 100; i++) {
                client.send("GET /x HTTP/1.1\r\nHost: lb\r\n\r\n");
                assertThat(client.readResponse().status()).isEqualTo(200);
                Thread.sleep(2);
              }
            }
            return null;
          }));
        }
        for (Future<?> f : done) {
          f.get();
        }
      } finally {
        clients.shutdownNow();
      }
      long toSlow = slow.requests();
      long toFast = Math.min(fast1.requests(), fast2.requests());
      assertThat(fast1.requests() + fast2.requests() + toSlow).isEqualTo(800);
      assertThat(toSlow).as("%s: slow %d, fast %d and %d", algorithm, toSlow, fast1.requests(), fast2.requests())
          .isLessThan(toFast / 2);
      System.out.printf("balancing: %s sent %d of 800 requests to the slow backend, %d and %d to the fast ones%n",
          algorithm, toSlow, fast1.requests(), fast2.requests());
    }
  }

  @Test
  void roundRobinForComparisonSendsTheSlowBackendItsThird() throws Exception {
    TestBackend fast1 = backends.start("fast1");
    TestBackend fast2 = backends.start("fast2");
    TestBackend slow = backends.start("slow");
    slow.setDelayMillis(50);
    try (Lb lb = Lb.builder().workers(2).backends(fast1, fast2, slow).start()) {
      for (int i = 0; i < 30; i++) {
        get(lb, "/");
      }
      assertThat(slow.requests()).isEqualTo(10);
    }
  }

  @Test
  void consistentHashKeepsAClientOnOneBackend() throws Exception {
    TestBackend a = backends.start("a");
    TestBackend b = backends.start("b");
    TestBackend c = backends.start("c");
    try (Lb lb = Lb.builder().workers(2).backends(a, b, c).set("balancing.algorithm", "consistent_hash").start()) {
      String first = get(lb, "/");
      for (int i = 0; i < 20; i++) {
        assertThat(get(lb, "/")).isEqualTo(first);
      }
    }
  }

  @Test
  void consistentHashOnAHeaderSpreadsUsersAndKeepsEachOnOneBackend() throws Exception {
    TestBackend a = backends.start("a");
    TestBackend b = backends.start("b");
    TestBackend c = backends.start("c");
    try (Lb lb = Lb.builder().workers(2).backends(a, b, c).set("balancing.algorithm", "consistent_hash")
        .set("balancing.hash_key", "\"header:X-User\"").start()) {
      Map<String, String> home = new HashMap<>();
      for (int user = 0; user < 60; user++) {
        home.put("user-" + user, get(lb, "/", "X-User", "user-" + user));
      }
      assertThat(home.values()).contains("a", "b", "c");
      for (Map.Entry<String, String> e : home.entrySet()) {
        assertThat(get(lb, "/", "X-User", e.getKey())).isEqualTo(e.getValue());
      }
    }
  }

  @Test
  void randomReachesEveryBackend() throws Exception {
    TestBackend a = backends.start("a");
    TestBackend b = backends.start("b");
    try (Lb lb = Lb.builder().backends(a, b).set("balancing.algorithm", "random").start()) {
      for (int i = 0; i < 100; i++) {
        get(lb, "/");
      }
      assertThat(a.requests()).isBetween(20L, 80L);
      assertThat(a.requests() + b.requests()).isEqualTo(100);
    }
  }
}
