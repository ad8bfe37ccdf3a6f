package dev.lb.config;

import java.time.Duration;
import java.util.List;

/**
 * Per-client token buckets.
 *
 * @param clientKey what identifies a client: its address ({@code ip}) or a header
 * @param trustedProxies CIDRs whose {@code X-Forwarded-For} is believed, as written
 * @param headers whether every proxied response carries the {@code RateLimit-*} headers
 * @param defaultLimit the limit of a client with no entry of its own
 * @param clients static per-client limits
 * @param scope {@code local}: each replica keeps its own buckets; {@code cluster}: one bucket per client across every
 *     replica that uses the same Redis
 * @param redis where the cluster's buckets live, and what to do when it does not answer
 */
public record RateLimitConfig(
    boolean enabled,
    KeySource clientKey,
    List<String> trustedProxies,
    boolean headers,
    Limit defaultLimit,
    List<ClientLimit> clients,
    Scope scope,
    Redis redis) {

  public RateLimitConfig {
    trustedProxies = List.copyOf(trustedProxies);
    clients = List.copyOf(clients);
  }

  /** A configuration with the local scope (the form before {@code scope} and {@code redis} existed). */
  public RateLimitConfig(boolean enabled, KeySource clientKey, List<String> trustedProxies, boolean headers,
      Limit defaultLimit, List<ClientLimit> clients) {
    this(enabled, clientKey, trustedProxies, headers, defaultLimit, clients, Scope.LOCAL, Redis.defaults());
  }

  public static RateLimitConfig defaults() {
    return new RateLimitConfig(false, KeySource.CLIENT_ADDRESS, List.of(), true, new Limit(100, 10), List.of());
  }

  /** Where a client's bucket lives. */
  public enum Scope {
    /** In each replica: a client gets its limit from each. */
    LOCAL,
    /** In Redis, shared by every replica that uses it. */
    CLUSTER
  }

  /** What a replica does while Redis does not answer within its timeout. */
  public enum FailureMode {
    /** A local bucket with the client's limit divided by the replicas last seen alive. */
    LOCAL,
    /** Every request goes through. */
    OPEN,
    /** Every request is answered 503. */
    CLOSED
  }

  /**
   * The Redis of the cluster scope.
   *
   * @param url {@code redis://[:password@]host:port[/db]} or {@code rediss://...} (TLS)
   * @param timeout how long a call may take before the replica falls back to {@code failureMode}
   */
  public record Redis(String url, Duration timeout, FailureMode failureMode) {
    public static Redis defaults() {
      return new Redis("redis://127.0.0.1:6379/0", Duration.ofMillis(50), FailureMode.LOCAL);
    }
  }

  /** A token bucket's size and refill rate. */
  public record Limit(long capacity, double ratePerSec) {}

  /** A static limit for one client id. */
  public record ClientLimit(String clientId, long capacity, double ratePerSec) {}
}
