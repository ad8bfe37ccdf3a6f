/**
 * Rate limiting: a token bucket per client (lock-free, lazily refilled), the bounded map that holds them, client key
 * extraction, the registry of per-client limits, and the store interface that keeps limits across restarts and
 * replicas. Plain Java, no Netty: the pipeline handler that calls the limiter is {@code dev.lb.proxy.RateLimitHandler}.
 */
@NullMarked
package dev.lb.ratelimit;

import org.jspecify.annotations.NullMarked;
