package dev.lb.server.cluster;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The cluster-wide limit's meters: Redis calls by result and their latency, tokens leased and given back, and the
 * mode ({@code lb_ratelimit_mode{mode}} is 1 for the current one, 0 for the others).
 */
public final class ClusterMetrics {
  private final MeterRegistry registry;
  private final Counter ok;
  private final Counter failed;
  private final Timer latency;
  private final Counter leased;
  private final Counter returned;

  public ClusterMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.ok = calls("ok");
    this.failed = calls("error");
    this.latency = Timer.builder("lb_ratelimit_redis_duration")
        .description("Time a Redis call of the cluster-wide rate limit took, answered or failed")
        .serviceLevelObjectives(Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1),
            Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
            Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofSeconds(1))
        .register(registry);
    this.leased = Counter.builder("lb_ratelimit_tokens_leased")
        .description("Tokens this replica took from the cluster-wide buckets in Redis").register(registry);
    this.returned = Counter.builder("lb_ratelimit_tokens_returned")
        .description("Leased tokens this replica did not use and gave back").register(registry);
  }

  /** Meters that record into nothing. */
  public static ClusterMetrics disabled() {
    return new ClusterMetrics(new CompositeMeterRegistry());
  }

  private Counter calls(String result) {
    return Counter.builder("lb_ratelimit_redis_calls")
        .description("Redis calls of the cluster-wide rate limit, by result (a timeout is an error)")
        .tag("result", result).register(registry);
  }

  /** Registers {@code lb_ratelimit_mode} for each mode. */
  void mode(Supplier<ClusterRateLimiter.Mode> current) {
    for (ClusterRateLimiter.Mode m : ClusterRateLimiter.Mode.values()) {
      Gauge.builder("lb_ratelimit_mode", () -> current.get() == m ? 1 : 0)
          .description("1 for how this replica decides rate limits now: redis, or its failure_mode while Redis is"
              + " down (local, open, closed)")
          .tag("mode", m.name().toLowerCase(Locale.ROOT)).register(registry);
    }
  }

  void call(long nanos, boolean answered) {
    (answered ? ok : failed).increment();
    latency.record(nanos, TimeUnit.NANOSECONDS);
  }

  void leased(int tokens) {
    leased.increment(tokens);
  }

  void returned(int tokens) {
    returned.increment(tokens);
  }
}
