package dev.lb.stats;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Durations counted in log-linear buckets of microseconds, as HdrHistogram lays them out with three sub-bucket bits:
 * exact below 16 µs, then eight buckets per power of two, so a percentile read from it is within 1/16 (6.25%) of the
 * true value (it answers a bucket's middle). 272 buckets reach 2^36 µs (19 hours); longer durations land in the last.
 * Counts are cumulative and never reset: a window is the difference of two {@linkplain #snapshot snapshots}.
 *
 * <p>Recording is one atomic increment and allocates nothing; it is safe from any thread. The counts are kept in
 * {@link #STRIPES} copies, a thread writing to the one its id picks, so that two worker loops recording similar
 * durations do not fight over one cache line; a snapshot adds the copies up.
 */
public final class LatencyHistogram {
  private static final int SUB_BITS = 3;
  private static final int SUB = 1 << SUB_BITS;
  /** Values below this many microseconds have a bucket each. */
  private static final int LINEAR = 2 * SUB;
  private static final int MAX_EXPONENT = 35;
  /** Number of buckets. */
  public static final int BUCKETS = LINEAR + (MAX_EXPONENT - 3) * SUB;

  /** Copies of the counts; a power of two. */
  static final int STRIPES = 4;

  private final AtomicLongArray counts = new AtomicLongArray(STRIPES * BUCKETS);

  /** Counts one duration of {@code nanos} (negative counts as 0). */
  public void record(long nanos) {
    int stripe = (int) Thread.currentThread().getId() & (STRIPES - 1);
    counts.incrementAndGet(stripe * BUCKETS + bucket(nanos / 1000));
  }

  /** Copies the counts into {@code into}, which has {@link #BUCKETS} entries. */
  public void snapshot(long[] into) {
    for (int i = 0; i < BUCKETS; i++) {
      long sum = 0;
      for (int s = 0; s < STRIPES; s++) {
        sum += counts.get(s * BUCKETS + i);
      }
      into[i] = sum;
    }
  }

  /** The bucket of a duration of {@code micros}. */
  static int bucket(long micros) {
    if (micros < LINEAR) {
      return micros <= 0 ? 0 : (int) micros;
    }
    int exponent = 63 - Long.numberOfLeadingZeros(micros);
    if (exponent > MAX_EXPONENT) {
      return BUCKETS - 1;
    }
    int sub = (int) (micros >>> (exponent - SUB_BITS)) & (SUB - 1);
    return LINEAR + (exponent - SUB_BITS - 1) * SUB + sub;
  }

  /** The lowest duration in microseconds that falls in bucket {@code i}. */
  static long lowerBound(int i) {
    if (i < LINEAR) {
      return i;
    }
    int exponent = (i - LINEAR) / SUB + SUB_BITS + 1;
    int sub = (i - LINEAR) % SUB;
    return (long) (SUB + sub) << (exponent - SUB_BITS);
  }

  /** One past the highest duration in microseconds that falls in bucket {@code i}. */
  static long upperBound(int i) {
    return i + 1 < BUCKETS ? lowerBound(i + 1) : lowerBound(i) * 2;
  }

  /**
   * The {@code q} quantile (0 &lt; q &lt;= 1) of {@code counts}, in nanoseconds: the middle of the bucket that holds
   * the value ranked {@code ceil(q * total)}; -1 when nothing was counted.
   */
  public static long quantileNanos(long[] counts, double q) {
    long total = 0;
    for (long c : counts) {
      total += c;
    }
    if (total <= 0) {
      return -1;
    }
    long rank = Math.max(1, (long) Math.ceil(q * total));
    long seen = 0;
    for (int i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= rank) {
        return (lowerBound(i) + upperBound(i)) * 500;
      }
    }
    return (lowerBound(BUCKETS - 1) + upperBound(BUCKETS - 1)) * 500;
  }
}
