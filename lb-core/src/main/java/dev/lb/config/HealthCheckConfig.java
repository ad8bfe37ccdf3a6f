package dev.lb.config;

import java.time.Duration;

/**
 * Health checking of backends: active probes (the fields at this level) and passive outlier detection
 * ({@link #passive()}), two signals that each take a backend out of rotation on their own.
 */
public record HealthCheckConfig(
    boolean enabled,
    Duration slowStart,
    String path,
    Duration interval,
    Duration timeout,
    int healthyThreshold,
    int unhealthyThreshold,
    PassiveHealthConfig passive) {

  /** Active checks as given, passive checks with their defaults. */
  public HealthCheckConfig(
      boolean enabled,
      Duration slowStart,
      String path,
      Duration interval,
      Duration timeout,
      int healthyThreshold,
      int unhealthyThreshold) {
    this(enabled, slowStart, path, interval, timeout, healthyThreshold, unhealthyThreshold,
        PassiveHealthConfig.defaults());
  }

  public static HealthCheckConfig defaults() {
    return new HealthCheckConfig(
        true, Duration.ZERO, "/health", Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 3);
  }
}
