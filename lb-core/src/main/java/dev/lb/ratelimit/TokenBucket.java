package dev.lb.ratelimit;

import static java.util.Objects.requireNonNull;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One client's token bucket: at most {@code capacity} tokens, refilled at {@code rate_per_sec}, one token per
 * request. Kept in its GCRA form (the generic cell rate algorithm): a single number, the time at which the bucket
 * would be full again ({@code fullAt}), from which the tokens at any moment follow:
 * {@code tokens(now) = capacity - (fullAt - now) / period} when {@code fullAt > now}, else {@code capacity}.
 * Taking a token moves {@code fullAt} one period later; it is allowed while {@code fullAt - now} stays within
 * {@code capacity} periods. So refill is lazy (no timer per client), and a request is one compare-and-set on one
 * {@code long}: lock-free, and exact under any number of threads.
 *
 * <p>A full bucket ({@code fullAt <= now}) carries no information: dropping it and making a new one later changes
 * nothing, which is what lets the bucket map stay bounded.
 *
 * <p>Times are in nanoseconds of one monotonic clock, passed in by the caller.
 */
public final class TokenBucket {
  private static final VarHandle FULL_AT;

  static {
    try {
      FULL_AT = MethodHandles.lookup().findVarHandle(TokenBucket.class, "fullAt", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** Longest horizon a bucket keeps (about 73 years): guards the arithmetic against absurdly slow rates. */
  static final long MAX_WINDOW_NANOS = Long.MAX_VALUE / 4;

  @SuppressWarnings("unused") // through FULL_AT
  private volatile long fullAt;
  /** The limit, shared by every bucket with the same limit; period and window are derived from it per call. */
  private volatile Limit limit;
  /** The registry version this bucket's limit was resolved at; owned by the limiter. */
  volatile long registryVersion = -1;

  /** A full bucket at {@code now}. */
  public TokenBucket(Limit limit, long now) {
    this.limit = requireNonNull(limit, "limit");
    this.fullAt = now;
  }

  /** Nanoseconds per token. */
  static long periodNanos(Limit limit) {
    return (long) Math.max(1, Math.min(MAX_WINDOW_NANOS, Math.rint(1e9 / limit.ratePerSec())));
  }

  /** Nanoseconds a full bucket lasts: capacity periods. */
  static long windowNanos(Limit limit, long period) {
    return (long) Math.min((double) MAX_WINDOW_NANOS, (double) period * limit.capacity());
  }

  public Limit limit() {
    return limit;
  }

  /**
   * Takes a token if there is one.
   *
   * @param out receives the decision and the values of the {@code RateLimit-*} headers
   * @return whether the request may go on
   */
  public boolean tryAcquire(long now, Decision out) {
    Limit l = limit;
    long period = periodNanos(l);
    long window = windowNanos(l, period);
    for (;;) {
      long current = (long) FULL_AT.getVolatile(this);
      long base = Math.max(current, now);
      long next = base + period;
      if (next - now > window) {
        out.allowed = false;
        out.unavailable = false;
        out.limit = l.capacity();
        out.remaining = 0;
        out.resetNanos = base - now;
        out.retryAfterNanos = next - window - now;
        return false;
      }
      if (FULL_AT.compareAndSet(this, current, next)) {
        out.allowed = true;
        out.unavailable = false;
        out.limit = l.capacity();
        out.remaining = (window - (next - now)) / period;
        out.resetNanos = next - now;
        out.retryAfterNanos = 0;
        return true;
      }
    }
  }

  /** Tokens in the bucket at {@code now}, fractions included. */
  public double tokens(long now) {
    Limit l = limit;
    long current = (long) FULL_AT.getVolatile(this);
    if (current <= now) {
      return l.capacity();
    }
    return Math.max(0, l.capacity() - (double) (current - now) / periodNanos(l));
  }

  /** Whether the bucket is full at {@code now}, and so may be dropped. */
  public boolean isFull(long now) {
    return (long) FULL_AT.getVolatile(this) <= now;
  }

  /**
   * Changes the limit, keeping the tokens the bucket has now, clipped to the new capacity. From then on it refills
   * at the new rate.
   */
  public void reconfigure(Limit next, long now) {
    long period = periodNanos(next);
    synchronized (this) {
      for (;;) {
        long current = (long) FULL_AT.getVolatile(this);
        double tokens = Math.min(next.capacity(), tokens(now));
        long fullAgain = now + (long) Math.ceil((next.capacity() - tokens) * period);
        if (FULL_AT.compareAndSet(this, current, fullAgain)) {
          limit = next;
          return;
        }
      }
    }
  }

  /** Sets the tokens the bucket has at {@code now} (clipped to 0 and the capacity): for restoring saved levels. */
  public void setTokens(double tokens, long now) {
    Limit l = limit;
    double clipped = Math.max(0, Math.min(l.capacity(), tokens));
    FULL_AT.setVolatile(this, now + (long) Math.ceil((l.capacity() - clipped) * periodNanos(l)));
  }
}
