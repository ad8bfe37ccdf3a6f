package dev.lb.config;

import java.time.Duration;

/** Active and passive health checking of backends. */
public record HealthCheckConfig(
    boolean enabled,
    Duration slowStart,
    String path,
    Duration interval,
    Duration timeout,
    int healthyThreshold,
    int unhealthyThreshold) {
  public static HealthCheckConfig defaults() {
    return new HealthCheckConfig(
        true, Duration.ZERO, "/health", Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 3);
  }
}
