package dev.lb.config;

import java.time.Duration;

/**
 * Passive health checking: outlier detection from real traffic, as Envoy's {@code outlier_detection}. A backend whose
 * requests fail {@code consecutiveErrors} times in a row (connect failures, resets, timeouts, malformed responses,
 * and 5xx answers when {@code count5xx}) is ejected for {@code baseEjectionTime} times the number of its recent
 * ejections, at most {@code maxEjectionTime}; never more than {@code maxEjectionPercent} of the backends at once.
 *
 * @param enabled whether traffic can eject a backend
 * @param consecutiveErrors errors in a row that eject a backend
 * @param count5xx whether a 5xx response from the backend counts as an error
 * @param baseEjectionTime the first ejection's length
 * @param maxEjectionTime the longest an ejection lasts
 * @param maxEjectionPercent most backends ejected at once, in percent of all (at least one when above 0)
 */
public record PassiveHealthConfig(
    boolean enabled,
    int consecutiveErrors,
    boolean count5xx,
    Duration baseEjectionTime,
    Duration maxEjectionTime,
    int maxEjectionPercent) {

  public static PassiveHealthConfig defaults() {
    return new PassiveHealthConfig(true, 5, false, Duration.ofSeconds(30), Duration.ofSeconds(300), 50);
  }
}
