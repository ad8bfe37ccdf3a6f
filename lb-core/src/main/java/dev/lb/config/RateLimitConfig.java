package dev.lb.config;

import java.util.List;

/**
 * Per-client token buckets.
 *
 * @param clientKey what identifies a client: its address ({@code ip}) or a header
 * @param trustedProxies CIDRs whose {@code X-Forwarded-For} is believed, as written
 * @param headers whether every proxied response carries the {@code RateLimit-*} headers
 * @param defaultLimit the limit of a client with no entry of its own
 * @param clients static per-client limits
 */
public record RateLimitConfig(
    boolean enabled,
    KeySource clientKey,
    List<String> trustedProxies,
    boolean headers,
    Limit defaultLimit,
    List<ClientLimit> clients) {

  public RateLimitConfig {
    trustedProxies = List.copyOf(trustedProxies);
    clients = List.copyOf(clients);
  }

  public static RateLimitConfig defaults() {
    return new RateLimitConfig(false, KeySource.CLIENT_ADDRESS, List.of(), true, new Limit(100, 10), List.of());
  }

  /** A token bucket's size and refill rate. */
  public record Limit(long capacity, double ratePerSec) {}

  /** A static limit for one client id. */
  public record ClientLimit(String clientId, long capacity, double ratePerSec) {}
}
