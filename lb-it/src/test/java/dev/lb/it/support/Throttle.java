package dev.lb.it.support;

import static java.util.Objects.requireNonNull;

import java.io.InterruptedIOException;
import java.time.Duration;

/**
 * How fast a streaming helper moves bytes: at most {@code bytesPerStep} bytes, then a pause of {@code pause}. The
 * pause is a plain sleep on the test thread, never on an event loop.
 */
public record Throttle(int bytesPerStep, Duration pause) {
  /** As fast as the socket goes, in 64 KiB steps. */
  public static final Throttle NONE = new Throttle(64 * 1024, Duration.ZERO);

  public Throttle {
    requireNonNull(pause, "pause");
    if (bytesPerStep <= 0) {
      throw new IllegalArgumentException("bytesPerStep " + bytesPerStep + " (expected: positive)");
    }
    if (pause.isNegative()) {
      throw new IllegalArgumentException("pause " + pause + " (expected: zero or more)");
    }
  }

  /** {@code kib} KiB every {@code millis} milliseconds. */
  public static Throttle kibEvery(int kib, long millis) {
    return new Throttle(kib * 1024, Duration.ofMillis(millis));
  }

  public boolean isLimited() {
    return !pause.isZero();
  }

  /** Waits for one step's pause. */
  void pauseStep() throws InterruptedIOException {
    if (pause.isZero()) {
      return;
    }
    try {
      Thread.sleep(pause.toMillis(), pause.toNanosPart() % 1_000_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while throttled");
    }
  }
}
