package dev.lb.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

/** The {@code RateLimit-*} and {@code Retry-After} headers, with small numbers written from a cache. */
public final class RateLimitHeaders {
  public static final AsciiString LIMIT = AsciiString.cached("ratelimit-limit");
  public static final AsciiString REMAINING = AsciiString.cached("ratelimit-remaining");
  public static final AsciiString RESET = AsciiString.cached("ratelimit-reset");
  public static final AsciiString RETRY_AFTER = HttpHeaderNames.RETRY_AFTER;

  private static final AsciiString[] SMALL = new AsciiString[1024];

  static {
    for (int i = 0; i < SMALL.length; i++) {
      SMALL[i] = AsciiString.cached(Integer.toString(i));
    }
  }

  private RateLimitHeaders() {}

  static CharSequence number(long n) {
    return n >= 0 && n < SMALL.length ? SMALL[(int) n] : Long.toString(n);
  }

  /** Sets the three {@code RateLimit-*} headers. */
  public static void set(HttpHeaders headers, long limit, long remaining, long resetSeconds) {
    headers.set(LIMIT, number(limit));
    headers.set(REMAINING, number(remaining));
    headers.set(RESET, number(resetSeconds));
  }
}
