package dev.lb.metrics;

import dev.lb.backend.BackendMeters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;

/**
 * The Micrometer meters of one backend (or of the answers lb makes itself), bound once. Request counters are kept by
 * status code in an array, created on first use, so recording a request is an array read and an increment, never a
 * lookup by name.
 */
final class MicrometerBackendMeters implements BackendMeters {
  private final MeterRegistry registry;
  private final String backend;
  private final String upstream;
  private final Timer duration;
  private final @Nullable Counter retries;
  private final @Nullable Counter checksPassed;
  private final @Nullable Counter checksFailed;
  private final @Nullable Counter ejections;
  private final AtomicReferenceArray<Counter> byCode = new AtomicReferenceArray<>(600);
  private final List<Meter> owned = new ArrayList<>();

  /**
   * @param server whether the meters belong to a backend server; {@code none}, lb's own answers, has only request
   *     meters
   */
  MicrometerBackendMeters(MeterRegistry registry, String backend, String upstream, boolean server) {
    this.registry = registry;
    this.backend = backend;
    this.upstream = upstream;
    this.duration = own(Timer.builder(MeterNames.REQUEST_DURATION)
        .description("Time from a request's head to the end of its response")
        .tag(MeterNames.TAG_BACKEND, backend)
        .tag(MeterNames.TAG_UPSTREAM, upstream)
        .serviceLevelObjectives(ProxyMetrics.BUCKETS)
        .register(registry));
    this.retries = !server ? null : own(Counter.builder(MeterNames.RETRIES)
        .description("Attempts on this backend that failed and were retried on another")
        .tag(MeterNames.TAG_BACKEND, backend)
        .tag(MeterNames.TAG_UPSTREAM, upstream)
        .register(registry));
    this.checksPassed = server ? own(healthCheck("pass")) : null;
    this.checksFailed = server ? own(healthCheck("fail")) : null;
    this.ejections = !server ? null : own(Counter.builder(MeterNames.BACKEND_EJECTIONS)
        .description("Ejections of this backend by outlier detection")
        .tag(MeterNames.TAG_BACKEND, backend)
        .tag(MeterNames.TAG_UPSTREAM, upstream)
        .register(registry));
  }

  private Counter healthCheck(String result) {
    return Counter.builder(MeterNames.HEALTH_CHECKS)
        .description("Active health probes by result")
        .tag(MeterNames.TAG_BACKEND, backend)
        .tag(MeterNames.TAG_UPSTREAM, upstream)
        .tag(MeterNames.TAG_RESULT, result)
        .register(registry);
  }

  private <M extends Meter> M own(M meter) {
    synchronized (owned) {
      owned.add(meter);
    }
    return meter;
  }

  /** A request answered with {@code status} after {@code nanos}. */
  @Override
  public void request(int status, long nanos) {
    counter(status).increment();
    duration.record(nanos, TimeUnit.NANOSECONDS);
  }

  private Counter counter(int status) {
    int i = status >= 100 && status < 600 ? status : 0;
    Counter c = byCode.get(i);
    if (c == null) {
      c = own(Counter.builder(MeterNames.REQUESTS)
          .description("Requests answered, by backend and status")
          .tag(MeterNames.TAG_BACKEND, backend)
        .tag(MeterNames.TAG_UPSTREAM, upstream)
          .tag(MeterNames.TAG_CODE, i == 0 ? "other" : Integer.toString(i))
          .register(registry));
      byCode.set(i, c);
    }
    return c;
  }

  /** An attempt on this backend failed and the request was retried elsewhere. */
  @Override
  public void retried() {
    if (retries != null) {
      retries.increment();
    }
  }

  /** An active probe finished. */
  @Override
  public void healthCheck(boolean passed) {
    Counter c = passed ? checksPassed : checksFailed;
    if (c != null) {
      c.increment();
    }
  }

  /** Outlier detection ejected the backend. */
  @Override
  public void ejected() {
    if (ejections != null) {
      ejections.increment();
    }
  }

  /** Registers meters owned elsewhere but tagged with this backend, so they go when it goes. */
  void adopt(Meter meter) {
    own(meter);
  }

  /** Removes every meter of this backend from the registry (the backend left the configuration). */
  void remove() {
    synchronized (owned) {
      for (Meter m : owned) {
        registry.remove(m);
      }
      owned.clear();
    }
  }
}
