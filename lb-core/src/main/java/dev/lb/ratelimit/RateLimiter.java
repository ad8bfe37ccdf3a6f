package dev.lb.ratelimit;

import java.util.concurrent.Executor;

/**
 * Decides whether a client may make one more request. The local limiter decides at once; the interface also lets a
 * limiter decide later (a bucket shared by every replica through a remote store), without blocking the event loop
 * and without changing the pipeline handler that calls it.
 */
public interface RateLimiter {

  /**
   * Asks for one token for this client.
   *
   * @param out receives the decision
   * @param executor the caller's event loop, where a later decision is delivered
   * @param whenDecided run on {@code executor} once {@code out} holds a decision that was not ready at once
   * @return true when {@code out} holds the decision now; false when it will come through {@code whenDecided}
   */
  boolean acquire(String clientKey, Decision out, Executor executor, Runnable whenDecided);
}
