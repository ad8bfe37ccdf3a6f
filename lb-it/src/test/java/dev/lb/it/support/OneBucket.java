package dev.lb.it.support;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * What one token bucket would admit of requests at given times: the oracle for a limit shared by several
 * balancers. Comparing with {@code capacity + rate x time} holds only while the senders keep asking faster than the
 * rate; on a loaded machine they stall and catch up, and a bucket that fills while nobody asks loses what it cannot
 * hold, shared or not.
 */
public final class OneBucket {
  private OneBucket() {}

  /** Requests admitted of those sent at {@code nanoTimes} (any order) by a bucket full at the first of them. */
  public static long admitted(Collection<Long> nanoTimes, long capacity, double ratePerSec) {
    List<Long> times = new ArrayList<>(nanoTimes);
    times.sort(null);
    if (times.isEmpty()) {
      return 0;
    }
    double tokens = capacity;
    long last = times.get(0);
    long admitted = 0;
    for (long t : times) {
      tokens = Math.min(capacity, tokens + (t - last) / 1e9 * ratePerSec);
      last = t;
      if (tokens >= 1) {
        tokens -= 1;
        admitted++;
      }
    }
    return admitted;
  }
}
