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
  private volatile boolean down;
  private long downSince;
  private volatile String cause = "";
  private volatile java.time.@org.jspecify.annotations.Nullable Instant downSinceWall;

  OutageLog(Logger log, LongSupplier nanoClock) {
    this.log = log;
    this.nanoClock = nanoClock;
  }

  /** A store call failed: the first failure of an outage is logged, later ones are not. */
  void failed(StoreException e) {
    if (down) {
      return;
    }
    downSince = nanoClock.getAsLong();
    cause = String.valueOf(e.getMessage());
    downSinceWall = java.time.Instant.now();
    down = true;
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

  /** Null while the store answers, else what the outage's first failure said and since when; any thread. */
  @org.jspecify.annotations.Nullable String outage() {
    java.time.Instant since = downSinceWall;
    return down ? "unavailable since " + since + ": " + cause : null;
  }
}
