package dev.lb.balance;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendGroup;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Smooth weighted round robin, as nginx does it: each pick, every backend's current weight grows by its weight, the
 * largest wins and gives back the total. Weights 5, 1, 1 give {@code a a b a c a a}, interleaved rather than in
 * bursts. The sequence repeats with a period of the weights' sum (divided by their greatest common divisor), so it is
 * computed once per snapshot and a pick is one shared counter step, with no lock.
 */
public final class WeightedRoundRobinBalancer implements LoadBalancer {
  private final AtomicInteger next = new AtomicInteger();

  @Override
  public Picker picker(BackendGroup group) {
    Backend[] sequence = sequence(group.available());
    int n = sequence.length;
    if (n == 0) {
      return context -> null;
    }
    Backend[] available = group.available();
    return context -> {
      int start = Math.floorMod(next.getAndIncrement(), n);
      Backend first = sequence[start];
      if (!context.tried(first)) {
        return first;
      }
      // A retry: the next backend in the sequence the request has not tried.
      for (int i = 1; i < n; i++) {
        Backend candidate = sequence[(start + i) % n];
        if (!context.tried(candidate)) {
          return candidate;
        }
      }
      for (Backend candidate : available) {
        if (!context.tried(candidate)) {
          return candidate;
        }
      }
      return null;
    };
  }

  /** One period of nginx's smooth weighted round robin over these backends. */
  static Backend[] sequence(Backend[] backends) {
    int g = Weights.commonDivisor(backends);
    if (g == 0) {
      return new Backend[0];
    }
    int[] weight = new int[backends.length];
    int total = 0;
    for (int i = 0; i < backends.length; i++) {
      weight[i] = backends[i].weight() / g;
      total += weight[i];
    }
    int[] current = new int[backends.length];
    Backend[] out = new Backend[total];
    for (int step = 0; step < total; step++) {
      int best = -1;
      for (int i = 0; i < backends.length; i++) {
        current[i] += weight[i];
        if (weight[i] > 0 && (best < 0 || current[i] > current[best])) {
          best = i;
        }
      }
      current[best] -= total;
      out[step] = backends[best];
    }
    return out;
  }
}
