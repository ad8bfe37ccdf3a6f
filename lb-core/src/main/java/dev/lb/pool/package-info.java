/**
 * Keep-alive connections to backends, pooled per event loop: a client connection borrows backend connections only
 * from the pool of its own event loop, so one request never changes threads and the pools need no locks.
 */
@NullMarked
package dev.lb.pool;

import org.jspecify.annotations.NullMarked;
