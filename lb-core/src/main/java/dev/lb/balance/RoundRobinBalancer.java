package dev.lb.balance;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendGroup;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Each backend in turn, in configuration order, across all event loops (one shared counter, so the order is exact).
 * A retry skips backends the request has tried, and the turn moves past the backend it takes, so that the next
 * request does not land on that one again.
 */
public final class RoundRobinBalancer implements LoadBalancer {
  private final AtomicInteger next = new AtomicInteger();

  @Override
  public @Nullable Backend pick(BackendGroup group, PickContext context) {
    Backend[] available = group.available();
    int n = available.length;
    if (n == 0) {
      return null;
    }
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
  }
}
