package dev.lb.ratelimit;

/**
 * A token bucket's size and refill rate.
 *
 * @param capacity tokens at most: the burst a client may send at once; 1 to 1,000,000,000
 * @param ratePerSec tokens added per second, fractions allowed; above 0
 */
public record Limit(long capacity, double ratePerSec) {
  public static final long MAX_CAPACITY = 1_000_000_000L;
  public static final double MAX_RATE = 1_000_000_000d;

  public Limit {
    if (capacity < 1 || capacity > MAX_CAPACITY) {
      throw new IllegalArgumentException("capacity: " + capacity + " (expected: an integer from 1 to " + MAX_CAPACITY
          + ")");
    }
    if (!(ratePerSec > 0) || ratePerSec > MAX_RATE || Double.isNaN(ratePerSec)) {
      throw new IllegalArgumentException("rate_per_sec: " + ratePerSec + " (expected: a number above 0, at most "
          + (long) MAX_RATE + ")");
    }
  }
}
