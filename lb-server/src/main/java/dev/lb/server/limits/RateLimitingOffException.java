package dev.lb.server.limits;

import dev.lb.ratelimit.StoreException;

/**
 * A write to the client limits while rate limiting is off: there is no store to write to, and nothing would enforce
 * the limit. Not an outage: the admin API answers 409 and says how to turn rate limiting on.
 */
public final class RateLimitingOffException extends StoreUnavailableException {
  private static final long serialVersionUID = 1L;

  public RateLimitingOffException() {
    super("no store: rate limiting is off", new StoreException("rate_limit.enabled is false"));
  }
}
