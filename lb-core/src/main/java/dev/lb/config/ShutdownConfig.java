package dev.lb.config;

import java.time.Duration;

/**
 * Draining on SIGTERM.
 *
 * @param drainDelay how long {@code /readyz} answers 503 before the listener closes
 * @param gracePeriod how long in-flight requests get to finish after that
 */
public record ShutdownConfig(Duration drainDelay, Duration gracePeriod) {
  public static ShutdownConfig defaults() {
    return new ShutdownConfig(Duration.ZERO, Duration.ofSeconds(30));
  }
}
