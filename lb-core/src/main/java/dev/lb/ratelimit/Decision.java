package dev.lb.ratelimit;

/**
 * The outcome of asking for a token, written into an object the caller owns and reuses (one per connection), so a
 * request allocates nothing for it. Times are nanoseconds; the header values round them up to whole seconds.
 */
public final class Decision {
  boolean allowed;
  long limit;
  long remaining;
  long resetNanos;
  long retryAfterNanos;
  boolean unavailable;

  /** Whether the request may go on. */
  public boolean allowed() {
    return allowed;
  }

  /** The bucket's capacity: {@code RateLimit-Limit}. */
  public long limit() {
    return limit;
  }

  /** Whole tokens left after this request: {@code RateLimit-Remaining}. */
  public long remaining() {
    return remaining;
  }

  /** Until the bucket is full again. */
  public long resetNanos() {
    return resetNanos;
  }

  /** For a refused request: until a token is there. */
  public long retryAfterNanos() {
    return retryAfterNanos;
  }

  /** {@code RateLimit-Reset}: whole seconds until the bucket is full, rounded up. */
  public long resetSeconds() {
    return ceilSeconds(resetNanos);
  }

  /** {@code Retry-After}: whole seconds until a token is there, rounded up, at least 1. */
  public long retryAfterSeconds() {
    return Math.max(1, ceilSeconds(retryAfterNanos));
  }

  /**
   * Whether the limiter could not decide and refuses for that reason (a shared store unreachable with
   * {@code failure_mode: closed}): the request is answered 503, not 429.
   */
  public boolean unavailable() {
    return unavailable;
  }

  /** The limiter cannot decide: refused, to be answered 503. */
  public void setUnavailable() {
    set(false, 0, 0, 0, 0);
    this.unavailable = true;
  }

  /** Sets every field; for limiters other than the local one. */
  public void set(boolean allowed, long limit, long remaining, long resetNanos, long retryAfterNanos) {
    this.unavailable = false;
    this.allowed = allowed;
    this.limit = limit;
    this.remaining = remaining;
    this.resetNanos = resetNanos;
    this.retryAfterNanos = retryAfterNanos;
  }

  static long ceilSeconds(long nanos) {
    return nanos <= 0 ? 0 : (nanos + 999_999_999L) / 1_000_000_000L;
  }

  @Override
  public String toString() {
    return (allowed ? "allowed" : "refused") + " limit=" + limit + " remaining=" + remaining + " reset="
        + resetSeconds() + "s retry-after=" + retryAfterSeconds() + "s";
  }
}
