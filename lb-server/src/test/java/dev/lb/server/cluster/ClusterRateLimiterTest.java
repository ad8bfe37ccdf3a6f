package dev.lb.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.config.RateLimitConfig.FailureMode;
import dev.lb.ratelimit.Decision;
import dev.lb.ratelimit.Limit;
import dev.lb.ratelimit.LimitRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The lease logic against an in-memory GCRA whose answers the test releases, with time driven by the test. */
class ClusterRateLimiterTest {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000_000L);
  private final FakeRedis redis = new FakeRedis();
  private final List<Runnable> delivered = new ArrayList<>();
  private final AtomicInteger decidedLater = new AtomicInteger();

  /** GCRA as the script computes it, in microseconds of the test's clock; answers held until released. */
  final class FakeRedis implements ClusterRateLimiter.Gcra {
    final Map<String, Long> tat = new HashMap<>();
    final List<Runnable> pending = new ArrayList<>();
    int takes;
    final List<Integer> backs = new ArrayList<>();
    boolean down;
    boolean immediate = true;
    int replicas = 1;

    @Override
    public CompletionStage<ClusterRateLimiter.Grant> take(String client, Limit limit, int want, int back) {
      takes++;
      backs.add(back);
      CompletableFuture<ClusterRateLimiter.Grant> f = new CompletableFuture<>();
      Runnable answer = () -> {
        if (down) {
          f.completeExceptionally(new java.util.concurrent.TimeoutException("timed out"));
          return;
        }
        long now = nanos.get() / 1000;
        long interval = Math.round(1e6 / limit.ratePerSec());
        long t = Math.max(tat.getOrDefault(client, now) - (long) back * interval, now);
        long burst = limit.capacity() * interval;
        long free = Math.max(0, (now + burst - t) / interval);
        int granted = (int) Math.min(want, free);
        t += granted * interval;
        tat.put(client, t);
        long remaining = (now + burst - t) / interval;
        f.complete(new ClusterRateLimiter.Grant(granted, remaining, t - now,
            granted == 0 ? t + interval - now - burst : 0));
      };
      if (immediate) {
        answer.run();
      } else {
        pending.add(answer);
      }
      return f;
    }

    @Override
    public CompletionStage<Integer> heartbeat() {
      return down ? CompletableFuture.failedFuture(new java.util.concurrent.TimeoutException("timed out"))
          : CompletableFuture.completedFuture(replicas);
    }

    void release() {
      List<Runnable> now = new ArrayList<>(pending);
      pending.clear();
      now.forEach(Runnable::run);
    }
  }

  private ClusterRateLimiter limiter(Limit limit, FailureMode mode) {
    return new ClusterRateLimiter(new LimitRegistry(limit, Map.of()), redis, mode, nanos::get,
        ClusterMetrics.disabled(), null);
  }

  /** Acquires; a decision that comes later is delivered when the test runs {@link #deliver()}. */
  private Decision acquire(ClusterRateLimiter l, String client) {
    Decision d = new Decision();
    l.acquire(client, d, delivered::add, decidedLater::incrementAndGet);
    return d;
  }

  private void deliver() {
    List<Runnable> now = new ArrayList<>(delivered);
    delivered.clear();
    now.forEach(Runnable::run);
  }

  @Test
  void aLeaseServesManyRequestsWithOneCall() {
    ClusterRateLimiter l = limiter(new Limit(100, 100), FailureMode.LOCAL);
    assertThat(ClusterRateLimiter.leaseSize(new Limit(100, 100))).isEqualTo(10);
    Decision first = acquire(l, "a");
    deliver();
    assertThat(first.allowed()).isTrue();
    assertThat(redis.takes).isEqualTo(1);
    for (int i = 0; i < 4; i++) {
      assertThat(acquire(l, "a").allowed()).isTrue();
    }
    assertThat(redis.takes).as("five requests, one lease of ten").isEqualTo(1);
    acquire(l, "a");
    assertThat(redis.takes).as("below half the lease: the next one is asked for before it runs dry").isEqualTo(2);
  }

  @Test
  void requestsArrivingDuringARefillWaitForItAndNoSecondCallIsMade() {
    ClusterRateLimiter l = limiter(new Limit(3, 1), FailureMode.LOCAL);
    redis.immediate = false;
    Decision a = acquire(l, "c");
    Decision b = acquire(l, "c");
    Decision c = acquire(l, "c");
    Decision d = acquire(l, "c");
    assertThat(redis.takes).isEqualTo(1);
    redis.release();
    assertThat(redis.takes).as("a lease of one served one: the next is asked for the three still waiting")
        .isEqualTo(2);
    redis.release();
    deliver();
    assertThat(decidedLater.get()).isEqualTo(4);
    assertThat(List.of(a.allowed(), b.allowed(), c.allowed(), d.allowed())).containsExactly(true, true, true, false);
    assertThat(d.retryAfterSeconds()).isEqualTo(1);
  }

  @Test
  void aRefusalIsRememberedUntilItsRetryAfterWithoutAskingRedis() {
    ClusterRateLimiter l = limiter(new Limit(1, 1), FailureMode.LOCAL);
    acquire(l, "slow");
    deliver();
    Decision refused = acquire(l, "slow");
    deliver();
    assertThat(refused.allowed()).isFalse();
    int calls = redis.takes;
    for (int i = 0; i < 10; i++) {
      assertThat(acquire(l, "slow").allowed()).isFalse();
    }
    assertThat(redis.takes).isEqualTo(calls);
    nanos.addAndGet(1_000_000_000L);
    Decision later = acquire(l, "slow");
    deliver();
    assertThat(later.allowed()).isTrue();
  }

  @Test
  void withRedisDownTheLocalModeSharesTheLimitAmongTheReplicasAndComesBack() {
    ClusterRateLimiter l = limiter(new Limit(10, 10), FailureMode.LOCAL);
    redis.replicas = 2;
    l.tick();
    assertThat(l.replicas()).isEqualTo(2);
    redis.down = true;
    Decision first = acquire(l, "k");
    deliver();
    assertThat(l.mode()).isEqualTo(ClusterRateLimiter.Mode.LOCAL);
    assertThat(first.allowed()).isTrue();
    int allowed = 1;
    for (int i = 0; i < 20; i++) {
      if (acquire(l, "k").allowed()) {
        allowed++;
      }
    }
    assertThat(allowed).as("half of the capacity of 10").isEqualTo(5);
    redis.down = false;
    l.tick();
    assertThat(l.mode()).isEqualTo(ClusterRateLimiter.Mode.REDIS);
  }

  @Test
  void openLetsEverythingThroughAndClosedAnswersUnavailable() {
    ClusterRateLimiter open = limiter(new Limit(1, 1), FailureMode.OPEN);
    redis.down = true;
    acquire(open, "x");
    deliver();
    for (int i = 0; i < 5; i++) {
      assertThat(acquire(open, "x").allowed()).isTrue();
    }
    ClusterRateLimiter closed = limiter(new Limit(1, 1), FailureMode.CLOSED);
    Decision d = acquire(closed, "x");
    deliver();
    assertThat(d.allowed()).isFalse();
    assertThat(d.unavailable()).isTrue();
    assertThat(closed.mode()).isEqualTo(ClusterRateLimiter.Mode.CLOSED);
  }

  @Test
  void tokensHeldByAnIdleLeaseGoBack() {
    ClusterRateLimiter l = limiter(new Limit(100, 100), FailureMode.LOCAL);
    acquire(l, "a");
    deliver();
    nanos.addAndGet(ClusterRateLimiter.RETURN_AFTER_NANOS / 2);
    l.tick();
    assertThat(redis.takes).as("not idle long enough").isEqualTo(1);
    nanos.addAndGet(ClusterRateLimiter.RETURN_AFTER_NANOS);
    l.tick();
    assertThat(redis.backs).as("the nine unused tokens of a lease of ten given back").containsExactly(0, 9);
    l.tick();
    assertThat(redis.takes).as("given back once").isEqualTo(2);
  }
}
