package dev.lb.config;

import java.time.Duration;

/**
 * Timeouts, limits and retries of the proxy listener.
 *
 * @param connectTimeout to establish a backend connection
 * @param responseTimeout from the request fully sent to the backend's response headers
 * @param idleTimeout an idle client keep-alive connection is closed after this; also the longest a request or
 *     response body may stall
 * @param requestHeaderTimeout the whole request head must arrive within this
 * @param maxRetries other backends tried after a failure
 * @param maxHeaderSize bytes of request head; over it the answer is 431
 * @param maxBodySize bytes of request body; over it the answer is 413; 0 means unlimited
 * @param poolIdleTimeout an unused pooled backend connection is closed after this
 * @param poolMaxIdle unused connections kept per backend and event loop
 */
public record ProxyConfig(
    Duration connectTimeout,
    Duration responseTimeout,
    Duration idleTimeout,
    Duration requestHeaderTimeout,
    int maxRetries,
    int maxHeaderSize,
    long maxBodySize,
    Duration poolIdleTimeout,
    int poolMaxIdle) {
  public static ProxyConfig defaults() {
    return new ProxyConfig(
        Duration.ofSeconds(2),
        Duration.ofSeconds(30),
        Duration.ofSeconds(60),
        Duration.ofSeconds(10),
        2,
        8192,
        0,
        Duration.ofSeconds(30),
        64);
  }
}
