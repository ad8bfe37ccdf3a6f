package dev.lb.pool;

/**
 * How pools make and keep backend connections.
 *
 * @param connectTimeoutMillis to establish a connection
 * @param idleTimeoutNanos an unused pooled connection is closed after this
 * @param maxIdle unused connections kept per backend and event loop
 */
public record PoolSettings(int connectTimeoutMillis, long idleTimeoutNanos, int maxIdle) {}
