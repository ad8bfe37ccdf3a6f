package dev.lb.bench;

import dev.lb.ratelimit.Decision;
import dev.lb.ratelimit.Limit;
import dev.lb.ratelimit.TokenBucket;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link TokenBucket#tryAcquire}: the one compare-and-set every rate-limited request pays once its bucket is found.
 *
 * <ul>
 *   <li>{@code grant}: one thread on its own bucket, whose limit (10^9 tokens, 10^9 per second) never runs out: the
 *       uncontended CAS, the common case (a client's requests arrive on the event loop of its connection).
 *   <li>{@code grantSharedBucket}: two threads on one bucket, each CAS racing the other's; what one client with
 *       connections on both event loops costs at worst.
 *   <li>{@code grantOwnBucket}: two threads, each on a bucket of its own: the scaling reference for the shared case.
 *   <li>{@code refuse}: a bucket that is empty for the next 1,000 s: the refusal path (no CAS, only reads), what a
 *       client over its limit costs.
 *   <li>{@code nanoTime}: {@link System#nanoTime()} alone. Every other benchmark here reads the clock once per
 *       operation, as {@code LocalRateLimiter} does per request; subtract this to get the bucket's own cost.
 * </ul>
 *
 * The granting benchmarks check at the end of each iteration that no request was refused, so they measure what they
 * say.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-XX:+UseG1GC", "-Xms1g", "-Xmx1g"})
public class TokenBucketBenchmark {
  /** A limit that no benchmark can exhaust: a token per nanosecond, a second's worth of burst. */
  static final Limit UNLIMITED = new Limit(Limit.MAX_CAPACITY, Limit.MAX_RATE);
  /** One token per 1,000 s. */
  static final Limit STINGY = new Limit(1, 0.001);

  /** A bucket of its own, and a reusable decision, as a connection has. */
  @State(Scope.Thread)
  public static class Own {
    TokenBucket bucket;
    final Decision decision = new Decision();
    long refused;

    @Setup(Level.Trial)
    public void setUp() {
      bucket = new TokenBucket(UNLIMITED, System.nanoTime());
    }

    @TearDown(Level.Iteration)
    public void check() {
      if (refused != 0) {
        throw new IllegalStateException(refused + " requests refused by a bucket that should grant them all");
      }
    }
  }

  /** One bucket shared by every thread. */
  @State(Scope.Benchmark)
  public static class Shared {
    TokenBucket bucket;

    @Setup(Level.Trial)
    public void setUp() {
      bucket = new TokenBucket(UNLIMITED, System.nanoTime());
    }
  }

  /** An empty bucket, and the decision of the thread. */
  @State(Scope.Thread)
  public static class Empty {
    TokenBucket bucket;
    final Decision decision = new Decision();
    long granted;

    @Setup(Level.Trial)
    public void setUp() {
      long now = System.nanoTime();
      bucket = new TokenBucket(STINGY, now);
      if (!bucket.tryAcquire(now, decision)) {
        throw new IllegalStateException("a full bucket refused");
      }
    }

    @TearDown(Level.Iteration)
    public void check() {
      if (granted != 0) {
        throw new IllegalStateException(granted + " requests granted by a bucket that should be empty");
      }
    }
  }

  @Benchmark
  public long nanoTime() {
    return System.nanoTime();
  }

  @Benchmark
  public boolean grant(Own own) {
    boolean ok = own.bucket.tryAcquire(System.nanoTime(), own.decision);
    if (!ok) {
      own.refused++;
    }
    return ok;
  }

  @Benchmark
  @Threads(2)
  public boolean grantSharedBucket(Shared shared, Own own) {
    boolean ok = shared.bucket.tryAcquire(System.nanoTime(), own.decision);
    if (!ok) {
      own.refused++;
    }
    return ok;
  }

  @Benchmark
  @Threads(2)
  public boolean grantOwnBucket(Own own) {
    boolean ok = own.bucket.tryAcquire(System.nanoTime(), own.decision);
    if (!ok) {
      own.refused++;
    }
    return ok;
  }

  @Benchmark
  public long refuse(Empty empty) {
    if (empty.bucket.tryAcquire(System.nanoTime(), empty.decision)) {
      empty.granted++;
    }
    return empty.decision.retryAfterNanos();
  }
}
