package dev.lb.backend;

import dev.lb.config.HealthCheckConfig;
import dev.lb.config.PassiveHealthConfig;

/**
 * When a backend changes state, for each of the two signals.
 *
 * @param tracking whether active checks run; when not, the active signal always says up
 * @param healthyThreshold consecutive passing probes that bring a backend marked down back
 * @param unhealthyThreshold consecutive failing probes that mark a backend down
 * @param passive outlier detection from real traffic
 */
public record HealthPolicy(boolean tracking, int healthyThreshold, int unhealthyThreshold, Passive passive) {

  /**
   * Outlier detection.
   *
   * @param enabled whether traffic can eject a backend
   * @param consecutiveErrors errors in a row that eject it
   * @param count5xx whether 5xx responses count as errors
   * @param baseEjectionNanos the first ejection's length, multiplied by the number of recent ejections
   * @param maxEjectionNanos the longest ejection
   * @param maxEjectionPercent most backends ejected at once, in percent (at least one when above 0)
   */
  public record Passive(
      boolean enabled,
      int consecutiveErrors,
      boolean count5xx,
      long baseEjectionNanos,
      long maxEjectionNanos,
      int maxEjectionPercent) {

    /** No outlier detection. */
    public static final Passive OFF = new Passive(false, Integer.MAX_VALUE, false, 1, 1, 0);

    public static Passive from(PassiveHealthConfig c) {
      return new Passive(c.enabled(), c.consecutiveErrors(), c.count5xx(), c.baseEjectionTime().toNanos(),
          c.maxEjectionTime().toNanos(), c.maxEjectionPercent());
    }

    /** How many of {@code backends} may be ejected at once. */
    public int maxEjected(int backends) {
      if (!enabled || maxEjectionPercent == 0) {
        return 0;
      }
      return Math.max(1, (int) ((long) backends * maxEjectionPercent / 100));
    }
  }

  /** A policy under which backends are always healthy. */
  public static final HealthPolicy UNTRACKED = new HealthPolicy(false, 1, 1, Passive.OFF);

  /** Active checks with these thresholds, no outlier detection. */
  public HealthPolicy(boolean tracking, int healthyThreshold, int unhealthyThreshold) {
    this(tracking, healthyThreshold, unhealthyThreshold, Passive.OFF);
  }

  public static HealthPolicy from(HealthCheckConfig config) {
    return new HealthPolicy(config.enabled(), config.healthyThreshold(), config.unhealthyThreshold(),
        Passive.from(config.passive()));
  }
}
