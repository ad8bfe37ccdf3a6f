package dev.lb.balance;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendGroup;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Each backend in turn, in configuration order, across all event loops (one shared counter, so the order is exact;
 * weights are ignored). A retry skips backends the request has tried, and the turn moves past the backend it takes,
 * so that the next request does not land on that one again. The turn survives changes of the backend set.
 */
public final class RoundRobinBalancer implements LoadBalancer {
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
      for (int i = 0; i < n; i++) {
        Backend candidate = available[(start + i) % n];
        if (!context.tried(candidate)) {
          if (i > 0) {
            next.addAndGet(i);
          }
          return candidate;
        }
      }
      return null;
    };
  }
}
