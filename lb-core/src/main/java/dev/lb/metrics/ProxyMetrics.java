package dev.lb.metrics;

import static java.util.Objects.requireNonNull;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendMeters;
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
  private final MicrometerBackendMeters none;
  private final java.util.concurrent.ConcurrentHashMap<String, BackendMeters> noneByUpstream =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final Counter rateLimited;
  private final Counter accepted;
  private final Counter refused;
  private final Counter reloadsOk;
  private final Counter reloadsFailed;
  private final Counter retriesSkippedBudget;
  private final Counter retriesSkippedTimeout;
  private final Counter queueFull;
  private final Counter queueTimeout;
  private final io.micrometer.core.instrument.Timer queueWait;
  private final java.util.concurrent.ConcurrentHashMap<String, Counter> floods =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.concurrent.ConcurrentHashMap<String, Counter> protocols =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final Counter handshakeFailures;
  private final Counter certificateReloadsOk;
  private final Counter certificateReloadsFailed;

  public ProxyMetrics(MeterRegistry registry) {
    this.registry = requireNonNull(registry, "registry");
    this.none = new MicrometerBackendMeters(registry, MeterNames.NONE, MeterNames.NO_UPSTREAM, false);
    this.rateLimited = Counter.builder(MeterNames.RATELIMIT_REJECTED)
        .description("Requests answered 429 Rate limit exceeded").register(registry);
    this.accepted = Counter.builder(MeterNames.CONNECTIONS_ACCEPTED)
        .description("Client connections accepted").register(registry);
    this.refused = Counter.builder(MeterNames.CONNECTIONS_REFUSED)
        .description("Client connections closed at once because max_connections were open").register(registry);
    this.reloadsOk = reloads("success");
    this.reloadsFailed = reloads("failure");
    this.retriesSkippedBudget = retriesSkipped("budget");
    this.retriesSkippedTimeout = retriesSkipped("timeout");
    this.queueFull = queueRejected("full");
    this.queueTimeout = queueRejected("timeout");
    this.queueWait = io.micrometer.core.instrument.Timer.builder(MeterNames.QUEUE_WAIT)
        .description("Time requests waited for a backend connection under max_connections, served or not")
        .serviceLevelObjectives(BUCKETS)
        .register(registry);
    this.handshakeFailures = Counter.builder(MeterNames.TLS_HANDSHAKE_FAILURES)
        .description("TLS handshakes with clients that failed or timed out").register(registry);
    this.certificateReloadsOk = certificateReloads("success");
    this.certificateReloadsFailed = certificateReloads("failure");
  }

  private Counter certificateReloads(String result) {
    return Counter.builder(MeterNames.TLS_CERTIFICATE_RELOADS)
        .description("Re-reads of the listener's certificate files by result (a failure keeps the old ones)")
        .tag(MeterNames.TAG_RESULT, result).register(registry);
  }

  /** An HTTP/2 connection was closed for a flood of {@code kind} ({@code rapid_reset}, {@code ping}...). */
  public void http2Flood(String kind) {
    floods.computeIfAbsent(kind, k -> Counter.builder(MeterNames.HTTP2_FLOODS)
        .description("HTTP/2 connections closed with GOAWAY for a flood, by kind")
        .tag(MeterNames.TAG_KIND, k).register(registry)).increment();
  }

  /** A client connection settled on {@code protocol}: {@code http/1.1}, {@code h2}, {@code h2c}. */
  public void connectionProtocol(String protocol) {
    protocols.computeIfAbsent(protocol, k -> Counter.builder(MeterNames.CONNECTIONS_PROTOCOL)
        .description("Client connections by the protocol they settled on (over TLS: by ALPN)")
        .tag(MeterNames.TAG_PROTOCOL, k).register(registry)).increment();
  }

  /** A TLS handshake with a client failed. */
  public void tlsHandshakeFailed() {
    handshakeFailures.increment();
  }

  /** The certificate files were read again: {@code ok}, or kept the old ones. */
  public void certificateReload(boolean ok) {
    (ok ? certificateReloadsOk : certificateReloadsFailed).increment();
  }

  private Counter retriesSkipped(String reason) {
    return Counter.builder(MeterNames.RETRIES_SKIPPED)
        .description("Retries not made: the retry budget was spent, or the backoff would pass the response timeout")
        .tag(MeterNames.TAG_REASON, reason).register(registry);
  }

  private Counter queueRejected(String reason) {
    return Counter.builder(MeterNames.QUEUE_REJECTED)
        .description("Requests answered 503 because the queue was full or their wait timed out")
        .tag(MeterNames.TAG_REASON, reason).register(registry);
  }

  /** A retry was not made: {@code budget} spent, or its backoff would pass the response {@code timeout}. */
  public void retrySkipped(boolean budget) {
    (budget ? retriesSkippedBudget : retriesSkippedTimeout).increment();
  }

  /** A request stopped waiting in the queue after {@code nanos}, served or not. */
  public void queueWait(long nanos) {
    queueWait.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  /** A request was answered 503: the queue was {@code full}, or its wait timed out. */
  public void queueRejected(boolean full) {
    (full ? queueFull : queueTimeout).increment();
  }

  /** Registers the gauge of requests waiting in the queue. */
  public void queueLength(Supplier<Number> waiting) {
    Gauge.builder(MeterNames.QUEUE_LENGTH, waiting)
        .description("Requests waiting for a backend connection under max_connections").register(registry);
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
    MicrometerBackendMeters meters = new MicrometerBackendMeters(registry, backend.url(), backend.upstream(), true);
    meters.adopt(Gauge.builder(MeterNames.BACKEND_UP, backend, b -> b.health().isHealthy() ? 1 : 0)
        .description("1 while the backend takes traffic, else 0")
        .tag(MeterNames.TAG_BACKEND, backend.url())
        .tag(MeterNames.TAG_UPSTREAM, backend.upstream())
        .register(registry));
    meters.adopt(Gauge.builder(MeterNames.BACKEND_ACTIVE_REQUESTS, backend, Backend::activeRequests)
        .description("Requests in flight on the backend")
        .tag(MeterNames.TAG_BACKEND, backend.url())
        .tag(MeterNames.TAG_UPSTREAM, backend.upstream())
        .register(registry));
    meters.adopt(Gauge.builder(MeterNames.BACKEND_ACTIVE_UP, backend, b -> b.health().activeUp() ? 1 : 0)
        .description("1 while active health checks say the backend is up (or are off), else 0")
        .tag(MeterNames.TAG_BACKEND, backend.url())
        .tag(MeterNames.TAG_UPSTREAM, backend.upstream())
        .register(registry));
    meters.adopt(Gauge.builder(MeterNames.BACKEND_EJECTED, backend, b -> b.health().ejected() ? 1 : 0)
        .description("1 while outlier detection has the backend ejected, else 0")
        .tag(MeterNames.TAG_BACKEND, backend.url())
        .tag(MeterNames.TAG_UPSTREAM, backend.upstream())
        .register(registry));
    meters.adopt(Gauge.builder(MeterNames.BACKEND_CONNECTIONS, backend, Backend::openConnections)
        .description("Connections open to the backend, idle pooled ones included")
        .tag(MeterNames.TAG_BACKEND, backend.url())
        .tag(MeterNames.TAG_UPSTREAM, backend.upstream())
        .register(registry));
    backend.meters(meters);
  }

  /** Removes a backend's meters: it left the configuration. */
  public void unbind(Backend backend) {
    if (backend.meters() instanceof MicrometerBackendMeters bound) {
      bound.remove();
    }
  }

  /** The meters of answers lb made itself to requests no route matched. */
  public BackendMeters none() {
    return none;
  }

  /** The meters of answers lb made itself to requests routed to {@code upstream}; made on the first call. */
  public BackendMeters none(String upstream) {
    return noneByUpstream.computeIfAbsent(upstream, u -> new MicrometerBackendMeters(registry, MeterNames.NONE, u, false));
  }

  /** Removes the meters of lb's own answers for an upstream that left the configuration. */
  public void retire(String upstream) {
    BackendMeters meters = noneByUpstream.remove(upstream);
    if (meters instanceof MicrometerBackendMeters bound) {
      bound.remove();
    }
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
