/**
 * What the status page shows, kept in lb rather than scraped: per-backend counters, a latency histogram whose
 * percentiles cover the last minute, requests per second now and at peak, 429s and the clients refused most in the
 * last minute. Recording is on the hot path and allocates nothing; the windows move on a sampler's tick, off it.
 */
@NullMarked
package dev.lb.stats;

import org.jspecify.annotations.NullMarked;
