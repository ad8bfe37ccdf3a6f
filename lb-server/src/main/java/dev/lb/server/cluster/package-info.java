/**
 * The cluster-wide rate limit ({@code rate_limit.scope: cluster}): token leases from per-client GCRA buckets in
 * Redis, spent locally, with a fallback for when Redis does not answer.
 */
@NullMarked
package dev.lb.server.cluster;

import org.jspecify.annotations.NullMarked;
