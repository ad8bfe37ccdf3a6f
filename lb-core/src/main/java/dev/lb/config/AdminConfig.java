package dev.lb.config;

/**
 * The admin listener (health, readiness, metrics, backends, clients).
 *
 * @param token bearer token required by the management endpoints; empty means loopback callers only
 */
public record AdminConfig(String host, int port, String token) {
  public static AdminConfig defaults() {
    return new AdminConfig("0.0.0.0", 9090, "");
  }
}
