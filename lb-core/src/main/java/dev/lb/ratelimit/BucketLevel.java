package dev.lb.ratelimit;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/**
 * How full a client's bucket was when it was saved (on drain), so that a restart does not hand the client a full
 * bucket. On restore, the tokens the bucket would have regained since {@code savedAt} are added back.
 */
public record BucketLevel(String clientId, double tokens, Instant savedAt) {
  public BucketLevel {
    requireNonNull(clientId, "clientId");
    requireNonNull(savedAt, "savedAt");
  }
}
