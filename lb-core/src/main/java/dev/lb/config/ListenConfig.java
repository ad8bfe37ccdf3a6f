package dev.lb.config;

/**
 * The proxy listener.
 *
 * @param host address to bind
 * @param port TCP port; 0 picks a free one
 * @param workers event loops serving connections; 0 means one per available core
 * @param maxConnections client connections accepted at once; more are closed as they arrive
 */
public record ListenConfig(String host, int port, int workers, int maxConnections) {
  public static ListenConfig defaults() {
    return new ListenConfig("0.0.0.0", 8080, 0, 10_000);
  }
}
