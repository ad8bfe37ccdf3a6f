package dev.lb.http2;

import java.util.function.Consumer;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/** Tells the listener of one connection about the first flood found on it, and about no other. */
final class FloodReport {
  private static final Logger log = LogManager.getLogger(FloodReport.class);

  private final Consumer<Flood> listener;
  private boolean reported;

  FloodReport(Consumer<Flood> listener) {
    this.listener = listener;
  }

  void report(Flood flood) {
    if (reported) {
      return;
    }
    reported = true;
    try {
      listener.accept(flood);
    } catch (RuntimeException e) {
      log.warn("HTTP/2 flood listener failed on {}", flood.key(), e);
    }
  }
}
