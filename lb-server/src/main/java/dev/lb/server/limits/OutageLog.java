package dev.lb.server.limits;

import dev.lb.ratelimit.StoreException;
import java.time.Duration;
import java.util.function.LongSupplier;
import org.apache.logging.log4j.Logger;

/**
 * Logs a store outage once when it starts and once when it ends, however many polls and writes fail in between: an
 * operator sees two lines per outage, not one per second. Used from the store thread only.
 */
final class OutageLog {
  private final Logger log;
  private final LongSupplier nanoClock;
  private boolean down;
  private long downSince;

  OutageLog(Logger log, LongSupplier nanoClock) {
    this.log = log;
    this.nanoClock = nanoClock;
  }

  /** A store call failed: the first failure of an outage is logged, later ones are not. */
  void failed(StoreException e) {
    if (down) {
      return;
    }
    down = true;
    downSince = nanoClock.getAsLong();
    log.warn("store unavailable, limits as last read stay in force and /clients writes answer 503: {}",
        e.getMessage());
  }

  /** A store call succeeded: the end of an outage is logged. */
  void succeeded() {
    if (!down) {
      return;
    }
    down = false;
    Duration lasted = Duration.ofNanos(nanoClock.getAsLong() - downSince);
    log.info("store available again after {}", lasted.toMillis() < 10_000 ? lasted.toMillis() + "ms"
        : lasted.toSeconds() + "s");
  }

  boolean down() {
    return down;
  }
}
