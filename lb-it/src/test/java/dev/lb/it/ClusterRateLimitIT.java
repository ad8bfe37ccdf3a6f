package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lb.it.support.OneBucket;
import dev.lb.it.support.TestBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code rate_limit.scope: cluster} with three balancers sharing the real Redis of {@code LB_TEST_REDIS_URL} (as
 * {@code .ci/run} sets it; skipped where none answers): a client sending through all three at three times its rate
 * is admitted its limit once, not three times; every refused answer is a 429 with the headers of the contract.
 */
class ClusterRateLimitIT {
  private static String redisUrl;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final List<AutoCloseable> closing = new ArrayList<>();

  @BeforeAll
  static void redis() {
    redisUrl = dev.lb.server.testing.TestRedis.urlOrAbort();
  }

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closing) {
      c.close();
    }
  }

  private Lb replica(TestBackend backend) throws Exception {
    Lb lb = Lb.builder().backends(backend)
        .set("rate_limit.enabled", "true")
        .set("rate_limit.scope", "cluster")
        .set("rate_limit.redis", "{url: \"" + redisUrl + "\", timeout: 2s}")
        .set("rate_limit.client_key", "\"header:X-API-Key\"")
        .set("rate_limit.default", "{capacity: 20, rate_per_sec: 50}")
        .set("store.url", "\"jdbc:h2:mem:lb-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1\"")
        .start();
    closing.add(0, lb);
    return lb;
  }

  @Test
  void threeBalancersAdmitAClientsLimitOnceBetweenThem() throws Exception {
    TestBackend backend = TestBackend.start("b");
    closing.add(backend);
    List<Lb> lbs = List.of(replica(backend), replica(backend), replica(backend));
    String key = "cluster-it-" + UUID.randomUUID();
    AtomicLong admitted = new AtomicLong();
    AtomicLong refused = new AtomicLong();
    List<String> odd = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Long> sent = java.util.Collections.synchronizedList(new ArrayList<>());
    long seconds = 10;
    long start = System.nanoTime();
    long end = start + TimeUnit.SECONDS.toNanos(seconds);
    List<Thread> threads = new ArrayList<>();
    for (Lb lb : lbs) {
      Thread t = new Thread(() -> {
        long next = System.nanoTime();
        while (System.nanoTime() < end) {
          try {
            sent.add(System.nanoTime());
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + lb.port() + "/")).header("X-API-Key", key)
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
              admitted.incrementAndGet();
            } else if (r.statusCode() == 429 && r.headers().firstValue("retry-after").isPresent()
                && r.headers().firstValue("ratelimit-limit").orElse("").equals("20")) {
              refused.incrementAndGet();
            } else {
              odd.add(r.statusCode() + " " + r.headers().map());
            }
            // Each balancer at the client's rate (50/s): three times it together.
            next += 20_000_000L;
            long wait = next - System.nanoTime();
            if (wait > 0) {
              TimeUnit.NANOSECONDS.sleep(wait);
            }
          } catch (InterruptedException e) {
            return;
          } catch (Exception e) {
            odd.add(e.toString());
          }
        }
      });
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join();
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    double limit = 20 + 50 * elapsed;
    // What one bucket would have admitted of the requests as they were sent: on a loaded machine the senders stall
    // and then catch up, and a bucket that fills while nobody asks loses what it cannot hold, in one balancer or many.
    long expected = OneBucket.admitted(sent, 20, 50);
    System.out.printf("cluster scope through 3 balancers: %d sent, %d admitted, %d refused in %.2f s; one bucket"
            + " would admit %d (%.1f%%); capacity + rate x time %.0f%n", sent.size(), admitted.get(), refused.get(),
        elapsed, expected, 100.0 * (admitted.get() - expected) / expected, limit);
    assertThat(odd).isEmpty();
    assertThat((double) admitted.get()).isBetween(expected * 0.95, expected * 1.05);
    assertThat((double) admitted.get()).as("never above the limit").isLessThanOrEqualTo(limit * 1.01);
    assertThat(refused.get()).as("about two thirds refused").isGreaterThan(admitted.get());

    HttpResponse<String> status = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + lbs.get(0).adminPort() + "/status?format=json")).build(),
        HttpResponse.BodyHandlers.ofString());
    var rl = new ObjectMapper().readTree(status.body()).path("lb").path("rate_limit");
    assertThat(rl.path("scope").asText()).isEqualTo("cluster");
    assertThat(rl.path("store").asText()).contains("redis ok");
    HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + lbs.get(0).adminPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.body()).contains("lb_ratelimit_mode{mode=\"redis\"} 1.0")
        .contains("lb_ratelimit_redis_calls_total{result=\"ok\"}");
  }
}
