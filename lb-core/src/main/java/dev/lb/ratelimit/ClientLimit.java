package dev.lb.ratelimit;

import static java.util.Objects.requireNonNull;

/** A client's limit and where it comes from. */
public record ClientLimit(String clientId, Limit limit, LimitSource source) {
  public ClientLimit {
    requireNonNull(clientId, "clientId");
    requireNonNull(limit, "limit");
    requireNonNull(source, "source");
  }
}
