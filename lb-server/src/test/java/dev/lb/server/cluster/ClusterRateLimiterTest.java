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
  /** The caller's event loop: runs what it is given when the test says ({@link #deliver()}). */
  private final java.util.concurrent.Executor loop = delivered::add;
  private final AtomicInteger decidedLater = new AtomicInteger();

  /** GCRA as the script computes it, in microseconds of the test's clock; answers held until released. */
  final class FakeRedis implements ClusterRateLimiter.Gcra {
    final Map<String, Long> tat = new HashMap<>();
    final List<Runnable> pending = new ArrayList<>();
    int takes;
    /** Calls made ({@link #takeAll}), each for one or more takes. */
    int calls;
    final List<Integer> backs = new ArrayList<>();
    final List<Integer> debts = new ArrayList<>();
    boolean down;
    boolean immediate = true;
    int replicas = 1;

    /** One call for all of them, each answered as the script would. */
    @Override
    public CompletionStage<List<ClusterRateLimiter.Grant>> takeAll(List<ClusterRateLimiter.Take> all) {
      calls++;
      List<CompletableFuture<ClusterRateLimiter.Grant>> each = all.stream().map(this::take).toList();
      return CompletableFuture.allOf(each.toArray(new CompletableFuture<?>[0]))
          .thenApply(ignored -> each.stream().map(CompletableFuture::join).toList());
    }

    private CompletableFuture<ClusterRateLimiter.Grant> take(ClusterRateLimiter.Take take) {
      String client = take.client();
      Limit limit = take.limit();
      int want = take.want();
      int back = take.back();
      takes++;
      backs.add(back);
      debts.add(take.debt());
      CompletableFuture<ClusterRateLimiter.Grant> f = new CompletableFuture<>();
      Runnable answer = () -> {
        if (down) {
          f.completeExceptionally(new java.util.concurrent.TimeoutException("timed out"));
          return;
        }
        long now = nanos.get() / 1000;
        long interval = ClusterRateLimiter.intervalMicros(limit);
        long t = tat.getOrDefault(client, 0L);
        if (take.debt() > 0) {
          t = Math.max(t, now - take.debtAgeMicros()) + take.debt() * interval;
        }
        t = Math.max(t - (long) back * interval, now);
        long burst = limit.capacity() * interval;
        long free = Math.max(0, (now + burst - t) / interval);
        int granted = (int) Math.min(want, free);
        t += granted * interval;
        tat.put(client, t);
        long remaining = Math.max(0, (now + burst - t) / interval);
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
    l.acquire(client, d, loop, decidedLater::incrementAndGet);
    return d;
  }

  /** Runs what the loop was given, and what that gave it, until nothing is left. */
  private void settle() {
    while (!delivered.isEmpty()) {
      deliver();
    }
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
    deliver();
    assertThat(redis.takes).as("below half the lease: the next one is asked for before it runs dry").isEqualTo(2);
  }

  @Test
  void leasesAskedForDuringOneLoopTurnGoInOneCallAndTheirAnswersInOneTask() {
    ClusterRateLimiter l = limiter(new Limit(1, 1), FailureMode.LOCAL);
    redis.immediate = false;
    List<Decision> decisions = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      decisions.add(acquire(l, "client-" + i));
    }
    decisions.add(acquire(l, "client-0"));
    assertThat(redis.calls).as("nothing is sent while the loop still handles what it read").isZero();
    assertThat(delivered).as("one flush for the turn").hasSize(1);
    deliver();
    assertThat(redis.calls).as("forty clients, one call").isEqualTo(1);
    assertThat(redis.takes).as("the second request of client-0 joined its lease").isEqualTo(40);
    redis.release();
    assertThat(delivered).as("every decision handed back to the loop in one task").hasSize(1);
    deliver();
    assertThat(decidedLater.get()).isEqualTo(41);
    assertThat(decisions.subList(0, 40)).allMatch(Decision::allowed);
    assertThat(decisions.get(40).allowed()).as("client-0's bucket held one token").isFalse();
  }

  @Test
  void requestsArrivingDuringARefillWaitForItAndNoSecondCallIsMade() {
    ClusterRateLimiter l = limiter(new Limit(3, 1), FailureMode.LOCAL);
    redis.immediate = false;
    Decision a = acquire(l, "c");
    Decision b = acquire(l, "c");
    Decision c = acquire(l, "c");
    Decision d = acquire(l, "c");
    deliver();
    assertThat(redis.takes).isEqualTo(1);
    redis.release();
    deliver();
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

  @Test
  void aClientFarBelowItsLimitIsAdmittedOnCreditAndPaysWithItsNextCall() {
    ClusterRateLimiter l = limiter(new Limit(100, 10), FailureMode.LOCAL);
    assertThat(ClusterRateLimiter.leaseSize(new Limit(100, 10))).as("a lease of one").isEqualTo(1);
    Decision first = acquire(l, "api");
    settle();
    assertThat(first.allowed()).isTrue();
    assertThat(redis.takes).isEqualTo(1);
    // 99 tokens left in the shared bucket, one replica seen: credit for half of them.
    for (int i = 0; i < 49; i++) {
      nanos.addAndGet(5_000_000_000L);
      Decision d = acquire(l, "api");
      assertThat(d.allowed()).as("decided at once, on credit").isTrue();
    }
    assertThat(delivered).as("nothing asked of Redis").isEmpty();
    assertThat(redis.takes).isEqualTo(1);
    Decision paying = acquire(l, "api");
    settle();
    assertThat(paying.allowed()).isTrue();
    assertThat(redis.debts).as("the 49 requests admitted on credit charged with the next call").containsExactly(0, 49);
    // Charged as of the last of them (just now): 49 for the credit and one for this request are gone.
    assertThat(redis.tat.get("api") - nanos.get() / 1000).isEqualTo(50 * 100_000L);
  }

  @Test
  void creditIsSharedAmongTheReplicasSeenAndNeverGivenWhenTheBucketIsNearlyDry() {
    redis.replicas = 3;
    ClusterRateLimiter l = limiter(new Limit(61, 10), FailureMode.LOCAL);
    l.tick();
    acquire(l, "three");
    settle();
    int onCredit = 0;
    while (acquire(l, "three").allowed() && delivered.isEmpty()) {
      onCredit++;
    }
    assertThat(onCredit).as("60 left, a sixth of them per replica").isEqualTo(10);
    ClusterRateLimiter one = limiter(new Limit(1, 1), FailureMode.LOCAL);
    acquire(one, "capacity-one");
    settle();
    Decision second = acquire(one, "capacity-one");
    settle();
    assertThat(second.allowed()).as("a bucket of one leaves nothing to lend").isFalse();
  }

  @Test
  void creditSpentLongAgoIsToldByTheHeartbeatAndAForgottenLeaseTellsItsDebtFirst() {
    ClusterRateLimiter l = limiter(new Limit(100, 10), FailureMode.LOCAL);
    acquire(l, "idle");
    settle();
    acquire(l, "idle");
    acquire(l, "idle");
    l.tick();
    assertThat(redis.debts).as("too recent to be worth a call").containsExactly(0);
    nanos.addAndGet(ClusterRateLimiter.DEBT_MAX_AGE_NANOS);
    l.tick();
    assertThat(redis.debts).containsExactly(0, 2);
    acquire(l, "idle");
    nanos.addAndGet(ClusterRateLimiter.FORGET_AFTER_NANOS);
    l.tick();
    assertThat(redis.debts).as("told before the lease is forgotten").containsExactly(0, 2, 1);
    l.tick();
    acquire(l, "idle");
    settle();
    assertThat(redis.takes).as("forgotten: the next request asks again").isEqualTo(4);
  }

  @Test
  void theMostReplicasSeenLatelyAreRememberedWhileTheyAnnounceThemselvesAgain() {
    ClusterRateLimiter l = limiter(new Limit(10, 10), FailureMode.LOCAL);
    redis.replicas = 3;
    l.tick();
    assertThat(l.replicas()).isEqualTo(3);
    redis.replicas = 1; // Redis restarted: only this replica has announced itself so far
    nanos.addAndGet(1_000_000_000L);
    l.tick();
    assertThat(l.replicas()).isEqualTo(3);
    nanos.addAndGet(ClusterRateLimiter.REPLICAS_MEMORY_NANOS);
    l.tick();
    assertThat(l.replicas()).as("the others are really gone").isEqualTo(1);
  }

  @Test
  void anOutageStartsAClientsLocalBucketFromWhatRedisLastSaidWasLeft() {
    redis.replicas = 2;
    ClusterRateLimiter l = limiter(new Limit(10, 1), FailureMode.LOCAL);
    l.tick();
    int admitted = 0;
    for (int i = 0; i < 20; i++) {
      Decision d = acquire(l, "spent");
      settle();
      if (d.allowed()) {
        admitted++;
      }
    }
    assertThat(admitted).as("the shared bucket's ten").isEqualTo(10);
    redis.down = true;
    nanos.addAndGet(2_000_000_000L);
    Decision during = acquire(l, "spent");
    settle();
    assertThat(l.mode()).isEqualTo(ClusterRateLimiter.Mode.LOCAL);
    assertThat(during.allowed()).as("two seconds refilled two tokens since Redis said dry, one this replica's")
        .isTrue();
    int local = 0;
    for (int i = 0; i < 10; i++) {
      if (acquire(l, "spent").allowed()) {
        local++;
      }
    }
    assertThat(local).as("not the full share of five").isZero();
    Decision unknown = acquire(l, "never-seen");
    assertThat(unknown.allowed()).as("nothing known: a full share").isTrue();
  }

  @Test
  void oneHeartbeatChargesAtMostABoundedNumberOfClientsAndTheRestLater() {
    ClusterRateLimiter l = limiter(new Limit(100, 10), FailureMode.LOCAL);
    int clients = ClusterRateLimiter.MAX_TICK_TAKES + 100;
    for (int i = 0; i < clients; i++) {
      acquire(l, "c" + i);
    }
    settle();
    for (int i = 0; i < clients; i++) {
      assertThat(acquire(l, "c" + i).allowed()).as("on credit").isTrue();
    }
    nanos.addAndGet(ClusterRateLimiter.DEBT_MAX_AGE_NANOS);
    redis.debts.clear();
    l.tick();
    assertThat(redis.debts).as("a bounded burst").hasSize(ClusterRateLimiter.MAX_TICK_TAKES);
    l.tick();
    assertThat(redis.debts).as("the rest a second later").hasSize(clients);
  }
}
