package dev.lb.proxy;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Keeps retries from turning a failing pool's trouble into a storm (Envoy's retry budget): retries in flight never
 * exceed {@code percent} of the requests in flight that are not themselves retrying, or {@code min_concurrent},
 * whichever is larger. A request counts as retrying from its first retry until it ends, so retries add at most
 * {@code percent} to the traffic a failing pool sees (1.2x with the default 20), however many each request makes.
 * Also computes the jittered exponential backoff between retries.
 *
 * <p>Thread-safe and shared by every event loop: requests are counted in a {@link LongAdder} (two uncontended adds
 * per request); the retry count, touched only by retries, is an atomic bounded by compare-and-set.
 */
public final class RetryBudget {
  private final LongAdder requests = new LongAdder();
  private final AtomicInteger retries = new AtomicInteger();

  /** A request started (it is in flight, not retrying). */
  void requestStarted() {
    requests.increment();
  }

  /**
   * A request in flight wants its first retry: it becomes a retry in flight when the budget allows.
   *
   * @return whether it may retry
   */
  boolean tryStartRetry(ProxySettings.Retries settings) {
    long cap = Math.max(settings.budgetMinConcurrent(), requests.sum() * settings.budgetPercent() / 100);
    for (int n = retries.get(); n < cap; n = retries.get()) {
      if (retries.compareAndSet(n, n + 1)) {
        requests.decrement();
        return true;
      }
    }
    return false;
  }

  /** A request ended; {@code retrying} when it had started retrying. */
  void requestEnded(boolean retrying) {
    if (retrying) {
      retries.decrementAndGet();
    } else {
      requests.decrement();
    }
  }

  /** Requests in flight that are not retrying. */
  public long requestsInFlight() {
    return requests.sum();
  }

  /** Requests in flight that are retrying. */
  public int retriesInFlight() {
    return retries.get();
  }

  /**
   * How long to wait before retry number {@code retry} (1 for the first): the first goes at once; retry {@code n >=
   * 2} waits a random time between half and all of {@code min(max, base x 2^(n-2))}.
   */
  static long backoffNanos(ProxySettings.Retries settings, int retry) {
    if (retry <= 1) {
      return 0;
    }
    int shift = Math.min(retry - 2, 30);
    long base = settings.backoffBaseNanos();
    long ceiling = base > settings.backoffMaxNanos() >> shift ? settings.backoffMaxNanos() : base << shift;
    return ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
  }
}
