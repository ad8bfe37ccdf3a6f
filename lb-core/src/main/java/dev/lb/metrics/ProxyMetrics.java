package dev.lb.metrics;

import static java.util.Objects.requireNonNull;

import dev.lb.backend.Backend;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * The balancer's own meters in one registry. Per-backend meters hang on each {@link Backend}, so the request path
 * reaches them through a field. {@link #disabled()} records into nothing, for tests and embedded use.
 */
public final class ProxyMetrics {
  /** Histogram buckets for a proxy: half a millisecond to a minute. */
  static final Duration[] BUCKETS = {
    Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofNanos(2_500_000), Duration.ofMillis(5),
    Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
    Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2_500),
    Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60)
  };

  private final MeterRegistry registry;
  private final BackendMeters none;
  private final Counter rateLimited;
  private final Counter accepted;
  private final Counter refused;
  private final Counter reloadsOk;
  private final Counter reloadsFailed;

  public ProxyMetrics(MeterRegistry registry) {
    this.registry = requireNonNull(registry, "registry");
    this.none = new BackendMeters(registry, MeterNames.NONE, false);
    this.rateLimited = Counter.builder(MeterNames.RATELIMIT_REJECTED)
        .description("Requests answered 429 Rate limit exceeded").register(registry);
    this.accepted = Counter.builder(MeterNames.CONNECTIONS_ACCEPTED)
        .description("Client connections accepted").register(registry);
    this.refused = Counter.builder(MeterNames.CONNECTIONS_REFUSED)
        .description("Client connections closed at once because max_connections were open").register(registry);
    this.reloadsOk = reloads("success");
    this.reloadsFailed = reloads("failure");
  }

  private Counter reloads(String result) {
    return Counter.builder(MeterNames.RELOADS).description("Configuration reloads by result")
        .tag(MeterNames.TAG_RESULT, result).register(registry);
  }

  /** Meters that record into nothing. */
  public static ProxyMetrics disabled() {
    return new ProxyMetrics(new CompositeMeterRegistry());
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** Binds a backend's meters (and its up and active-requests gauges) and hangs them on it. */
  public void bind(Backend backend) {
    BackendMeters meters = new BackendMeters(registry, backend.url(), true);
    meters.adopt(Gauge.builder(MeterNames.BACKEND_UP, backend, b -> b.health().isHealthy() ? 1 : 0)
        .description("1 while the backend takes traffic, else 0")
        .tag(MeterNames.TAG_BACKEND, backend.url())
        .register(registry));
    meters.adopt(Gauge.builder(MeterNames.BACKEND_ACTIVE_REQUESTS, backend, Backend::activeRequests)
        .description("Requests in flight on the backend")
        .tag(MeterNames.TAG_BACKEND, backend.url())
        .register(registry));
    backend.meters(meters);
  }

  /** Removes a backend's meters: it left the configuration. */
  public void unbind(Backend backend) {
    backend.meters().remove();
  }

  /** The meters of answers lb made itself. */
  public BackendMeters none() {
    return none;
  }

  /** Registers the gauge of open client connections. */
  public void connections(Supplier<Number> open) {
    Gauge.builder(MeterNames.CONNECTIONS_ACTIVE, open).description("Open client connections").register(registry);
  }

  public Counter rateLimited() {
    return rateLimited;
  }

  public void connectionAccepted() {
    accepted.increment();
  }

  public void connectionRefused() {
    refused.increment();
  }

  public void reload(boolean success) {
    (success ? reloadsOk : reloadsFailed).increment();
  }
}
