/**
 * Rate limiting: a token bucket per client (lock-free, lazily refilled), the bounded map that holds them, client key
 * extraction, the registry of per-client limits, the pipeline handler, and the store interface that keeps limits
 * across restarts and replicas.
 */
@NullMarked
package dev.lb.ratelimit;

import org.jspecify.annotations.NullMarked;
