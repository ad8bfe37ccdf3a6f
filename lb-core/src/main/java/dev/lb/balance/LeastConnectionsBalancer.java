package dev.lb.balance;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendGroup;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The backend with the fewest active requests relative to its weight (as nginx's {@code least_conn}; with equal
 * weights, simply the fewest). Ties are broken in turn: the scan starts one place further each pick and the first
 * of the least loaded wins, so idle backends share the load in round-robin order.
 */
public final class LeastConnectionsBalancer implements LoadBalancer {
  private final AtomicInteger next = new AtomicInteger();

  @Override
  public Picker picker(BackendGroup group) {
    Backend[] available = group.available();
    int n = available.length;
    if (n == 0) {
      return context -> null;
    }
    return context -> {
      int start = Math.floorMod(next.getAndIncrement(), n);
      Backend best = null;
      for (int i = 0; i < n; i++) {
        Backend candidate = available[(start + i) % n];
        if (!context.tried(candidate) && (best == null || lessLoaded(candidate, best))) {
          best = candidate;
        }
      }
      return best;
    };
  }

  /** Whether {@code a} carries fewer active requests per unit of weight than {@code b}. */
  static boolean lessLoaded(Backend a, Backend b) {
    return (long) a.activeRequests() * b.weight() < (long) b.activeRequests() * a.weight();
  }
}
