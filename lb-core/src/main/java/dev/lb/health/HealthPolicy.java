package dev.lb.health;

import dev.lb.config.HealthCheckConfig;

/**
 * When a backend changes state.
 *
 * @param tracking whether health is tracked at all; when not, every backend is always healthy
 * @param healthyThreshold consecutive passing probes that bring an unhealthy backend back
 * @param unhealthyThreshold consecutive failures (probes or traffic) that take a healthy backend out
 */
public record HealthPolicy(boolean tracking, int healthyThreshold, int unhealthyThreshold) {

  /** A policy under which backends are always healthy. */
  public static final HealthPolicy UNTRACKED = new HealthPolicy(false, 1, 1);

  public static HealthPolicy from(HealthCheckConfig config) {
    return new HealthPolicy(config.enabled(), config.healthyThreshold(), config.unhealthyThreshold());
  }
}
