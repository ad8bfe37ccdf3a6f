package dev.lb.config;

import java.time.Duration;

/**
 * Timeouts, limits, retries and the queue of the proxy listener.
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
 * @param retryBackoff the wait before the second and later retries
 * @param retryBudget how many retries may be in flight at once
 * @param queue where requests wait while every backend they may use is at its {@code max_connections}
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
    int poolMaxIdle,
    RetryBackoff retryBackoff,
    RetryBudget retryBudget,
    Queue queue) {

  /**
   * Jittered exponential backoff between retries (Envoy's defaults): the first retry goes at once, retry {@code n >=
   * 2} waits a random time between half and all of {@code min(max, base x 2^(n-2))}.
   */
  public record RetryBackoff(Duration base, Duration max) {
    public static RetryBackoff defaults() {
      return new RetryBackoff(Duration.ofMillis(25), Duration.ofMillis(250));
    }
  }

  /**
   * Retries in flight never exceed {@code percent} of the requests in flight that are not themselves retrying, or
   * {@code minConcurrent}, whichever is larger.
   */
  public record RetryBudget(int percent, int minConcurrent) {
    public static RetryBudget defaults() {
      return new RetryBudget(20, 3);
    }
  }

  /** At most {@code maxSize} requests wait, each at most {@code timeout}; 0 answers 503 at once. */
  public record Queue(int maxSize, Duration timeout) {
    public static Queue defaults() {
      return new Queue(1000, Duration.ofSeconds(5));
    }
  }

  /** The first nine settings as given, retries and the queue with their defaults. */
  public ProxyConfig(
      Duration connectTimeout,
      Duration responseTimeout,
      Duration idleTimeout,
      Duration requestHeaderTimeout,
      int maxRetries,
      int maxHeaderSize,
      long maxBodySize,
      Duration poolIdleTimeout,
      int poolMaxIdle) {
    this(connectTimeout, responseTimeout, idleTimeout, requestHeaderTimeout, maxRetries, maxHeaderSize, maxBodySize,
        poolIdleTimeout, poolMaxIdle, RetryBackoff.defaults(), RetryBudget.defaults(), Queue.defaults());
  }

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
        1024);
  }
}
