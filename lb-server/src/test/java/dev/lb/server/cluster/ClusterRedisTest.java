package dev.lb.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.config.RateLimitConfig;
import dev.lb.config.RateLimitConfig.FailureMode;
import dev.lb.ratelimit.Decision;
import dev.lb.ratelimit.Limit;
import dev.lb.ratelimit.LimitRegistry;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Three replicas' limiters against a real Redis ({@code LB_TEST_REDIS_URL}, as {@code .ci/run} sets it; skipped
 * where none answers): the limit holds for the sum of their requests, a slow client is never admitted twice in one
 * emission interval, and a Redis that stops answering (behind a relay that stops passing bytes on: CLIENT PAUSE
 * would stall every other build using the same server) costs no request more than the timeout.
 */
class ClusterRedisTest {
  private static String url;
  private final List<AutoCloseable> closing = new ArrayList<>();

  @BeforeAll
  static void redis() {
    url = dev.lb.server.testing.TestRedis.urlOrAbort();
  }

  /** Closes what the test opened, the last opened first (a limiter before its Redis client, that before a relay). */
  @AfterEach
  void close() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  /** A client of the Redis at {@code redisUrl} with this command timeout. */
  private LettuceGcra gcra(String redisUrl, Duration timeout) {
    LettuceGcra gcra = LettuceGcra.connect(new RateLimitConfig.Redis(redisUrl, timeout, FailureMode.LOCAL),
        Duration.ofSeconds(5));
    closing.add(gcra);
    return gcra;
  }

  /** A replica's limiter over {@code redis}, falling back to the local share, with its heartbeat running. */
  private ClusterRateLimiter limiter(Limit limit, ClusterRateLimiter.Gcra redis) {
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    ClusterRateLimiter limiter = new ClusterRateLimiter(new LimitRegistry(limit, Map.of()), redis, FailureMode.LOCAL,
        System::nanoTime, ClusterMetrics.disabled(), timer);
    closing.add(limiter);
    return limiter;
  }

  /** Three replicas' limiters on the shared Redis, with a generous timeout (other builds may be loading it). */
  private List<ClusterRateLimiter> threeReplicas(Limit limit) {
    return List.of(limiter(limit, gcra(url, Duration.ofSeconds(2))), limiter(limit, gcra(url, Duration.ofSeconds(2))),
        limiter(limit, gcra(url, Duration.ofSeconds(2))));
  }

  /**
   * A thread per replica decides for {@code client} every {@code pauseNanos} (at a fixed rate) until
   * {@code endNanos}; {@code admitted} runs for each admission. Returns when every thread has.
   */
  private static void driveEach(List<ClusterRateLimiter> replicas, String client, long endNanos, long pauseNanos,
      AtomicLong slowest, Runnable admitted) throws InterruptedException {
    List<Thread> threads = new ArrayList<>();
    for (ClusterRateLimiter r : replicas) {
      Thread t = new Thread(() -> {
        Decision d = new Decision();
        long next = System.nanoTime();
        try {
          while (System.nanoTime() < endNanos) {
            if (decide(r, client, d, slowest)) {
              admitted.run();
            }
            next += pauseNanos;
            long wait = next - System.nanoTime();
            if (wait > 0) {
              TimeUnit.NANOSECONDS.sleep(wait);
            }
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join();
    }
  }

  /** One decision, waited for; the time it took goes to {@code took}. */
  private static boolean decide(ClusterRateLimiter l, String client, Decision out, AtomicLong took)
      throws InterruptedException {
    long start = System.nanoTime();
    CountDownLatch done = new CountDownLatch(1);
    if (l.acquire(client, out, Runnable::run, done::countDown)) {
      done.countDown();
    }
    assertThat(done.await(10, TimeUnit.SECONDS)).as("decided").isTrue();
    took.accumulateAndGet(System.nanoTime() - start, Math::max);
    return out.allowed();
  }

  @Test
  void oneScriptCallDecidesManyClientsEachByItsOwnBucket() throws Exception {
    LettuceGcra gcra = gcra(url, Duration.ofSeconds(2));
    String id = UUID.randomUUID().toString();
    Limit five = new Limit(5, 1);
    Limit two = new Limit(2, 1);
    List<ClusterRateLimiter.Grant> first = gcra.takeAll(List.of(
        new ClusterRateLimiter.Take("a-" + id, five, 3, 0),
        new ClusterRateLimiter.Take("b-" + id, two, 5, 0),
        new ClusterRateLimiter.Take("c-" + id, five, 0, 0))).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(first).extracting(ClusterRateLimiter.Grant::granted).containsExactly(3, 2, 0);
    assertThat(first).extracting(ClusterRateLimiter.Grant::remaining).containsExactly(2L, 0L, 5L);
    // a and b again, and a third time for a in the same call: each key sees what the one before it left.
    List<ClusterRateLimiter.Grant> second = gcra.takeAll(List.of(
        new ClusterRateLimiter.Take("a-" + id, five, 1, 0),
        new ClusterRateLimiter.Take("b-" + id, two, 1, 0),
        new ClusterRateLimiter.Take("a-" + id, five, 5, 0))).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(second.get(0).granted()).isEqualTo(1);
    assertThat(second.get(1).granted()).as("b is dry").isZero();
    assertThat(second.get(1).retryMicros()).as("b's next token within a second").isBetween(1L, 1_000_000L);
    assertThat(second.get(2).granted()).as("a had one left, refilled by at most one in the meantime")
        .isBetween(1, 2);
    // Credit: three requests admitted without tokens, charged now; then what is left of five.
    List<ClusterRateLimiter.Grant> credit = gcra.takeAll(List.of(
        new ClusterRateLimiter.Take("d-" + id, five, 0, 0, 3, 0),
        new ClusterRateLimiter.Take("d-" + id, five, 5, 0))).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(credit.get(0).remaining()).isEqualTo(2);
    assertThat(credit.get(1).granted()).isEqualTo(2);
    // Charged an hour late: it was paid back long ago, and the bucket is full again.
    List<ClusterRateLimiter.Grant> late = gcra.takeAll(List.of(
        new ClusterRateLimiter.Take("e-" + id, five, 0, 0, 5, 3_600_000_000L))).toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    assertThat(late.get(0).remaining()).isEqualTo(5);
  }

  @Test
  void threeReplicasAtThreeTimesTheRateAdmitTheClustersLimit() throws Exception {
    Limit limit = new Limit(50, 100);
    String client = "acc-" + UUID.randomUUID();
    List<ClusterRateLimiter> replicas = threeReplicas(limit);
    AtomicLong admitted = new AtomicLong();
    AtomicLong slowest = new AtomicLong();
    long seconds = 8;
    long start = System.nanoTime();
    // Each replica at the client's rate: three times it together.
    driveEach(replicas, client, start + TimeUnit.SECONDS.toNanos(seconds), 10_000_000L, slowest,
        admitted::incrementAndGet);
    double elapsed = (System.nanoTime() - start) / 1e9;
    double expected = limit.capacity() + limit.ratePerSec() * elapsed;
    System.out.printf("cluster limit: %d admitted in %.2f s, expected %.0f (%.1f%%); slowest decision %.1f ms%n",
        admitted.get(), elapsed, expected, 100.0 * (admitted.get() - expected) / expected, slowest.get() / 1e6);
    assertThat((double) admitted.get()).isBetween(expected * 0.95, expected * 1.05);
    for (ClusterRateLimiter r : replicas) {
      assertThat(r.mode()).isEqualTo(ClusterRateLimiter.Mode.REDIS);
    }
  }

  /** {@code cmdstat_evalsha} and {@code cmdstat_eval} calls so far, from {@code INFO commandstats}. */
  private static long scriptCalls() {
    RedisClient admin = RedisClient.create(url);
    try (StatefulRedisConnection<String, String> c = admin.connect()) {
      long calls = 0;
      for (String line : c.sync().info("commandstats").split("\r?\n")) {
        if (line.startsWith("cmdstat_evalsha:") || line.startsWith("cmdstat_eval:")) {
          int at = line.indexOf("calls=");
          calls += Long.parseLong(line.substring(at + 6, line.indexOf(',', at)));
        }
      }
      return calls;
    } finally {
      admin.shutdown();
    }
  }

  /** The script calls one replica makes (takes and heartbeats), counted on their way to Redis. */
  private static final class Counting implements ClusterRateLimiter.Gcra {
    final ClusterRateLimiter.Gcra inner;
    final AtomicLong calls = new AtomicLong();

    Counting(ClusterRateLimiter.Gcra inner) {
      this.inner = inner;
    }

    @Override
    public java.util.concurrent.CompletionStage<List<ClusterRateLimiter.Grant>> takeAll(
        List<ClusterRateLimiter.Take> takes) {
      calls.incrementAndGet();
      return inner.takeAll(takes);
    }

    @Override
    public java.util.concurrent.CompletionStage<Integer> heartbeat() {
      calls.incrementAndGet();
      return inner.heartbeat();
    }
  }

  @Test
  void redisCallsPerAdmittedRequestFallAsTheRateGrows() throws Exception {
    StringBuilder report = new StringBuilder();
    for (double rate : new double[] {1, 100, 10_000}) {
      // Capacity 2 at 1/s: a client sending on the second exactly must not lose to the trip to Redis.
      Limit limit = new Limit((long) Math.max(2, rate), rate);
      Counting counting = new Counting(gcra(url, Duration.ofSeconds(2)));
      ClusterRateLimiter r = limiter(limit, counting);
      String client = "calls-" + UUID.randomUUID();
      Decision d = new Decision();
      AtomicLong slowest = new AtomicLong();
      long admitted = 0;
      long sent = 0;
      long before = counting.calls.get();
      long serverBefore = scriptCalls();
      long seconds = rate < 10 ? 4 : 2;
      long interval = (long) (1e9 / rate);
      long next = System.nanoTime();
      long end = next + TimeUnit.SECONDS.toNanos(seconds);
      while (System.nanoTime() < end) {
        sent++;
        if (decide(r, client, d, slowest)) {
          admitted++;
        }
        next += interval;
        long wait = next - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        }
      }
      long calls = counting.calls.get() - before;
      long serverCalls = scriptCalls() - serverBefore;
      report.append(String.format("%.0f/s: %d admitted, %d script calls (heartbeats included), %.3f per request;"
          + " INFO commandstats saw %d (the whole server: other builds count there too)%n",
          rate, admitted, calls, (double) calls / Math.max(1, admitted), serverCalls));
      if (rate < 10) {
        assertThat(admitted).as("a client keeping to its rate is never refused").isEqualTo(sent);
      }
      if (rate >= 100) {
        assertThat((double) calls / admitted).as("at %s/s", rate).isLessThan(rate >= 10_000 ? 0.05 : 0.5);
      }
    }
    System.out.print("cluster limit, Redis calls per admitted request:\n" + report);
  }

  @Test
  void aSlowClientIsNeverAdmittedTwiceInOneInterval() throws Exception {
    Limit limit = new Limit(1, 2);
    String client = "slow-" + UUID.randomUUID();
    List<ClusterRateLimiter> replicas = threeReplicas(limit);
    List<Long> admissions = java.util.Collections.synchronizedList(new ArrayList<>());
    driveEach(replicas, client, System.nanoTime() + TimeUnit.SECONDS.toNanos(4), 5_000_000L, new AtomicLong(),
        () -> admissions.add(System.nanoTime()));
    List<Long> sorted = new ArrayList<>(admissions);
    sorted.sort(Long::compare);
    assertThat(sorted.size()).as("one at once, then two a second for four seconds").isBetween(7, 10);
    for (int i = 1; i < sorted.size(); i++) {
      // 500 ms apart in Redis's clock; allow what the answers' trips add or take.
      assertThat(sorted.get(i) - sorted.get(i - 1)).as("gap %d", i).isGreaterThan(350_000_000L);
    }
  }

  @Test
  void aRedisThatStopsAnsweringCostsNoRequestMoreThanTheTimeoutAndIsUsedAgainAfter() throws Exception {
    Limit limit = new Limit(1_000, 1_000);
    StallingProxy proxy = new StallingProxy(url);
    closing.add(proxy);
    ClusterRateLimiter r = limiter(limit, gcra(proxy.url(), Duration.ofMillis(100)));
    String client = "stall-" + UUID.randomUUID();
    Decision d = new Decision();
    AtomicLong slowest = new AtomicLong();
    assertThat(decide(r, client, d, slowest)).isTrue();
    assertThat(r.mode()).isEqualTo(ClusterRateLimiter.Mode.REDIS);
    proxy.stall(true);
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1_500);
    slowest.set(0);
    int decided = 0;
    while (System.nanoTime() < until) {
      decide(r, client, d, slowest);
      decided++;
      Thread.sleep(2);
    }
    assertThat(r.mode()).isEqualTo(ClusterRateLimiter.Mode.LOCAL);
    assertThat(slowest.get()).as("no decision waits past the timeout (100 ms) by much").isLessThan(1_000_000_000L);
    assertThat(decided).isGreaterThan(100);
    proxy.stall(false);
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
        .until(() -> r.mode() == ClusterRateLimiter.Mode.REDIS);
    assertThat(decide(r, client, d, slowest)).isTrue();
  }
}
