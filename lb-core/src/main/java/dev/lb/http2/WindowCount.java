package dev.lb.http2;

/**
 * Events counted in fixed windows: a window opens at the first event after the last one ended and lasts
 * {@code windowNanos}. Not thread-safe: one per connection, used on its event loop.
 */
final class WindowCount {
  private final long windowNanos;
  private final int max;
  private long start;
  private int count;

  WindowCount(long windowNanos, int max) {
    this.windowNanos = windowNanos;
    this.max = max;
  }

  /** Counts an event at {@code nanos} (a {@link System#nanoTime()} reading); true once there were more than max. */
  boolean exceeded(long nanos) {
    if (count == 0 || nanos - start >= windowNanos) {
      start = nanos;
      count = 0;
    }
    return ++count > max;
  }

  int max() {
    return max;
  }
}
