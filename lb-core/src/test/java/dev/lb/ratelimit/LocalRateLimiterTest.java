package dev.lb.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LocalRateLimiterTest {
  private static final long SECOND = 1_000_000_000L;
  private final AtomicLong now = new AtomicLong(1_000 * SECOND);
  private final Decision d = new Decision();
  private final LimitRegistry registry = new LimitRegistry(new Limit(3, 1), Map.of("10.0.0.7", new Limit(5, 1)));
  private LocalRateLimiter limiter = new LocalRateLimiter(registry, now::get, 1_000, false);

  @AfterEach
  void close() {
    limiter.close();
  }

  private int grants(String client, int tries) {
    int n = 0;
    for (int i = 0; i < tries; i++) {
      if (limiter.tryAcquire(client, d)) {
        n++;
      }
    }
    return n;
  }

  @Test
  void clientsAreIndependentAndGetTheirOwnLimits() {
    assertThat(grants("192.0.2.1", 10)).isEqualTo(3);
    assertThat(grants("192.0.2.2", 10)).isEqualTo(3);
    assertThat(grants("10.0.0.7", 10)).as("a configured client").isEqualTo(5);
  }

  @Test
  void aChangeAppliesToTheNextRequestOfThatClientOnlyKeepingItsTokens() {
    grants("a", 2);
    grants("b", 1);
    registry.putApi("a", new Limit(10, 1));
    assertThat(limiter.tryAcquire("a", d)).isTrue();
    assertThat(d.limit()).isEqualTo(10);
    assertThat(d.remaining()).as("1 token kept, 1 taken now... from the old 3 - 2").isZero();
    assertThat(limiter.bucket("b").tokens(now.get())).as("b untouched").isEqualTo(2);
    assertThat(limiter.bucket("b").limit()).isEqualTo(new Limit(3, 1));
    registry.putApi("a", new Limit(1, 1));
    now.addAndGet(60 * SECOND);
    assertThat(grants("a", 5)).isEqualTo(1);
  }

  @Test
  void fullBucketsAreSweptAway() {
    grants("a", 3);
    grants("b", 1);
    assertThat(limiter.size()).isEqualTo(2);
    now.addAndGet(2 * SECOND);
    limiter.sweep();
    assertThat(limiter.bucket("b")).as("full again").isNull();
    assertThat(limiter.bucket("a")).as("still refilling").isNotNull();
    now.addAndGet(SECOND);
    limiter.sweep();
    assertThat(limiter.size()).isZero();
  }

  @Test
  void aMillionDistinctClientsStayWithinTheBound() {
    limiter.close();
    limiter = new LocalRateLimiter(registry, now::get, 50_000, false);
    int max = 0;
    for (int i = 0; i < 1_000_000; i++) {
      limiter.tryAcquire("198." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255) + "/" + (i >> 24), d);
      if ((i & 1023) == 0) {
        max = Math.max(max, limiter.size());
      }
    }
    assertThat(max).isLessThanOrEqualTo(50_000);
    assertThat(limiter.size()).isLessThanOrEqualTo(50_000);
    now.addAndGet(10 * SECOND);
    limiter.sweep();
    assertThat(limiter.size()).isZero();
  }

  @Test
  void levelsOfStoreClientsAreSavedAndRestoredWithTheirRefill() {
    registry.putApi("key-1", new Limit(10, 1));
    grants("key-1", 8);
    grants("192.0.2.9", 2);
    Instant saved = Instant.parse("2026-01-01T00:00:00Z");
    List<BucketLevel> levels = limiter.levels(registry.apiClients(), 100, saved);
    assertThat(levels).singleElement().satisfies(l -> {
      assertThat(l.clientId()).isEqualTo("key-1");
      assertThat(l.tokens()).isCloseTo(2, offset(1e-9));
    });

    LocalRateLimiter restarted = new LocalRateLimiter(registry, now::get, 1_000, false);
    assertThat(restarted.restore(levels, saved.plusSeconds(3))).isEqualTo(1);
    assertThat(restarted.bucket("key-1").tokens(now.get())).isCloseTo(5, offset(1e-6));
    assertThat(restarted.restore(levels, saved.plusSeconds(30))).as("full by now: skipped").isZero();
    restarted.close();
  }
}
