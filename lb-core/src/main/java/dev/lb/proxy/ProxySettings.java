package dev.lb.proxy;

import dev.lb.config.LbConfig;
import dev.lb.config.ProxyConfig;

/**
 * The proxy's knobs in the units the hot path uses (nanoseconds, milliseconds), taken once from the configuration.
 *
 * @param connectTimeoutMillis to establish a backend connection
 * @param responseTimeoutNanos from the request fully sent to the response head
 * @param idleTimeoutNanos idle keep-alive client connection; stalled body in either direction
 * @param headerTimeoutNanos the whole request head
 * @param maxRetries other backends tried after a failure
 * @param maxHeaderSize request head bytes
 * @param maxBodySize request body bytes; 0 means unlimited
 * @param poolIdleTimeoutNanos unused pooled backend connection
 * @param poolMaxIdle unused connections kept per backend and event loop
 * @param accessLog whether requests are logged
 * @param maxConnections client connections open at once
 */
public record ProxySettings(
    int connectTimeoutMillis,
    long responseTimeoutNanos,
    long idleTimeoutNanos,
    long headerTimeoutNanos,
    int maxRetries,
    int maxHeaderSize,
    long maxBodySize,
    long poolIdleTimeoutNanos,
    int poolMaxIdle,
    boolean accessLog,
    int maxConnections) {

  /** Longest request line; over it the answer is 414. */
  public static final int MAX_REQUEST_LINE = 4096;

  /**
   * Most header fields in a request head (Envoy's default; HAProxy allows 101); over it the answer is 431, whatever
   * their size. Chunked trailers are held to the same count.
   */
  public static final int MAX_HEADER_COUNT = 100;

  public static ProxySettings from(LbConfig config) {
    ProxyConfig p = config.proxy();
    return new ProxySettings(
        (int) Math.min(Integer.MAX_VALUE, p.connectTimeout().toMillis()),
        p.responseTimeout().toNanos(),
        p.idleTimeout().toNanos(),
        p.requestHeaderTimeout().toNanos(),
        p.maxRetries(),
        p.maxHeaderSize(),
        p.maxBodySize(),
        p.poolIdleTimeout().toNanos(),
        p.poolMaxIdle(),
        config.logging().accessLog(),
        config.listen().maxConnections());
  }
}
