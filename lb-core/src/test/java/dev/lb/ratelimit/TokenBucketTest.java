package dev.lb.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The token bucket with a driven clock, and under eight threads. */
class TokenBucketTest {
  private static final long SECOND = 1_000_000_000L;
  private final Decision d = new Decision();

  @Test
  void aFullBucketGrantsItsCapacityAtOnceThenRefuses() {
    TokenBucket b = new TokenBucket(new Limit(5, 1), 0);
    for (int i = 0; i < 5; i++) {
      assertThat(b.tryAcquire(0, d)).isTrue();
      assertThat(d.remaining()).isEqualTo(4 - i);
      assertThat(d.limit()).isEqualTo(5);
    }
    assertThat(b.tryAcquire(0, d)).isFalse();
    assertThat(d.allowed()).isFalse();
    assertThat(d.remaining()).isZero();
    assertThat(d.retryAfterSeconds()).isEqualTo(1);
    assertThat(d.resetSeconds()).isEqualTo(5);
  }

  @Test
  void tokensComeBackAtTheRate() {
    TokenBucket b = new TokenBucket(new Limit(2, 10), 0);
    assertThat(b.tryAcquire(0, d)).isTrue();
    assertThat(b.tryAcquire(0, d)).isTrue();
    assertThat(b.tryAcquire(0, d)).isFalse();
    assertThat(d.retryAfterNanos()).isEqualTo(SECOND / 10);
    assertThat(b.tryAcquire(SECOND / 10 - 1, d)).isFalse();
    assertThat(b.tryAcquire(SECOND / 10, d)).isTrue();
    assertThat(b.tokens(SECOND / 10)).isZero();
    assertThat(b.tokens(SECOND / 10 + SECOND / 20)).isCloseTo(0.5, offset(1e-9));
    assertThat(b.tokens(10 * SECOND)).isEqualTo(2);
    assertThat(b.isFull(10 * SECOND)).isTrue();
    assertThat(b.isFull(SECOND / 10)).isFalse();
  }

  @Test
  void fractionalRatesWork() {
    TokenBucket b = new TokenBucket(new Limit(1, 0.5), 0);
    assertThat(b.tryAcquire(0, d)).isTrue();
    assertThat(b.tryAcquire(SECOND, d)).isFalse();
    assertThat(d.retryAfterNanos()).isEqualTo(SECOND);
    assertThat(d.retryAfterSeconds()).isEqualTo(1);
    assertThat(b.tryAcquire(2 * SECOND, d)).isTrue();
  }

  @Test
  void retryAfterRoundsUpToWholeSecondsAndIsAtLeastOne() {
    TokenBucket slow = new TokenBucket(new Limit(1, 0.4), 0);
    slow.tryAcquire(0, d);
    slow.tryAcquire(0, d);
    assertThat(d.retryAfterNanos()).isEqualTo(2_500_000_000L);
    assertThat(d.retryAfterSeconds()).isEqualTo(3);
    TokenBucket fast = new TokenBucket(new Limit(1, 1000), 0);
    fast.tryAcquire(0, d);
    fast.tryAcquire(0, d);
    assertThat(d.retryAfterNanos()).isEqualTo(1_000_000);
    assertThat(d.retryAfterSeconds()).isEqualTo(1);
  }

  @Test
  void resetIsTheTimeUntilTheBucketIsFull() {
    TokenBucket b = new TokenBucket(new Limit(10, 2), 0);
    b.tryAcquire(0, d);
    assertThat(d.resetNanos()).isEqualTo(SECOND / 2);
    assertThat(d.resetSeconds()).isEqualTo(1);
    for (int i = 0; i < 5; i++) {
      b.tryAcquire(0, d);
    }
    assertThat(d.resetSeconds()).isEqualTo(3);
  }

  @Test
  void aCapacityChangeKeepsTheTokensClippedToTheNewCapacity() {
    TokenBucket b = new TokenBucket(new Limit(100, 1), 0);
    for (int i = 0; i < 40; i++) {
      b.tryAcquire(0, d);
    }
    assertThat(b.tokens(0)).isEqualTo(60);
    b.reconfigure(new Limit(200, 1), 0);
    assertThat(b.tokens(0)).as("tokens are kept").isEqualTo(60);
    b.reconfigure(new Limit(10, 1), 0);
    assertThat(b.tokens(0)).as("and clipped").isEqualTo(10);
    for (int i = 0; i < 10; i++) {
      assertThat(b.tryAcquire(0, d)).isTrue();
    }
    assertThat(b.tryAcquire(0, d)).isFalse();
    assertThat(d.limit()).isEqualTo(10);
  }

  @Test
  void aRateChangeAppliesFromNowOn() {
    TokenBucket b = new TokenBucket(new Limit(1, 1), 0);
    b.tryAcquire(0, d);
    b.reconfigure(new Limit(1, 4), 0);
    assertThat(b.tryAcquire(SECOND / 4, d)).isTrue();
  }

  @Test
  void restoredTokensAreClipped() {
    TokenBucket b = new TokenBucket(new Limit(10, 1), 0);
    b.setTokens(3.5, 0);
    assertThat(b.tokens(0)).isCloseTo(3.5, offset(1e-9));
    b.setTokens(50, 0);
    assertThat(b.tokens(0)).isEqualTo(10);
    b.setTokens(-1, 0);
    assertThat(b.tryAcquire(0, d)).isFalse();
  }

  @Test
  void absurdlySlowRatesDoNotOverflow() {
    TokenBucket b = new TokenBucket(new Limit(Limit.MAX_CAPACITY, 1e-9), 0);
    assertThat(b.tryAcquire(0, d)).isTrue();
    assertThat(d.remaining()).isPositive();
  }

  @Test
  void eightThreadsNeverGetMoreThanCapacityPlusRateTimesElapsed() throws Exception {
    Limit limit = new Limit(50, 1000);
    long start = System.nanoTime();
    TokenBucket b = new TokenBucket(limit, start);
    AtomicLong granted = new AtomicLong();
    CountDownLatch go = new CountDownLatch(1);
    long runNanos = 2 * SECOND;
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      Thread thread = new Thread(() -> {
        Decision mine = new Decision();
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        while (System.nanoTime() - start < runNanos) {
          if (b.tryAcquire(System.nanoTime(), mine)) {
            granted.incrementAndGet();
          }
        }
      });
      thread.start();
      threads.add(thread);
    }
    go.countDown();
    for (Thread t : threads) {
      t.join();
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    long bound = (long) (limit.capacity() + limit.ratePerSec() * elapsed);
    assertThat(granted.get()).isLessThanOrEqualTo(bound);
    assertThat(granted.get()).as("and the bucket did refill").isGreaterThan(limit.capacity() + 1_000);
  }
}
