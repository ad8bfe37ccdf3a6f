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
 * @param retries backoff and budget of retries
 * @param queue the queue of requests waiting for a capped backend
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
    int maxConnections,
    Retries retries,
    Queue queue) {

  /**
   * Retry backoff and budget.
   *
   * @param backoffBaseNanos the wait before the second retry (half to all of it, at random); doubled for each later
   * @param backoffMaxNanos the longest wait
   * @param budgetPercent retries in flight at most this percent of the requests in flight that are not retrying
   * @param budgetMinConcurrent ... or this many, whichever is larger
   */
  public record Retries(long backoffBaseNanos, long backoffMaxNanos, int budgetPercent, int budgetMinConcurrent) {
    public static final Retries DEFAULTS = from(ProxyConfig.defaults());

    static Retries from(ProxyConfig p) {
      return new Retries(p.retryBackoff().base().toNanos(), p.retryBackoff().max().toNanos(),
          p.retryBudget().percent(), p.retryBudget().minConcurrent());
    }
  }

  /**
   * @param maxSize requests waiting at once; 0: none wait, 503 at once
   * @param timeoutNanos longest wait; then 503
   */
  public record Queue(int maxSize, long timeoutNanos) {
    public static final Queue DEFAULTS = from(ProxyConfig.defaults());

    static Queue from(ProxyConfig p) {
      return new Queue(p.queue().maxSize(), p.queue().timeout().toNanos());
    }
  }

  /** Settings with the default retry backoff, budget and queue. */
  public ProxySettings(
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
    this(connectTimeoutMillis, responseTimeoutNanos, idleTimeoutNanos, headerTimeoutNanos, maxRetries, maxHeaderSize,
        maxBodySize, poolIdleTimeoutNanos, poolMaxIdle, accessLog, maxConnections, Retries.DEFAULTS, Queue.DEFAULTS);
  }

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
        config.listen().maxConnections(),
        Retries.from(p),
        Queue.from(p));
  }
}
