package dev.lb.balance;

import dev.lb.backend.BackendGroup;

/**
 * A balancing algorithm. For each snapshot of the backends it makes a {@link Picker}, once, when the snapshot is
 * published (rings, weight sequences and tables are built then, not per request); the picker chooses the backend
 * of each request. State that must outlive a snapshot (a round-robin turn) lives in the balancer.
 * Implementations are thread-safe and non-blocking.
 */
public interface LoadBalancer {

  /** A picker over {@code group.available()}. */
  Picker picker(BackendGroup group);
}
