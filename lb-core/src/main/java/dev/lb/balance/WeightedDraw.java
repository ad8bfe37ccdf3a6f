package dev.lb.balance;

import dev.lb.backend.Backend;
import java.util.Arrays;
import java.util.function.IntUnaryOperator;
import org.jspecify.annotations.Nullable;

/** Draws backends in proportion to their weights, from cumulative weights built once per snapshot. */
final class WeightedDraw {
  private final Backend[] backends;
  private final int[] cumulative;
  private final int total;

  WeightedDraw(Backend[] backends) {
    this.backends = backends;
    this.cumulative = new int[backends.length];
    int sum = 0;
    for (int i = 0; i < backends.length; i++) {
      sum += backends[i].weight();
      cumulative[i] = sum;
    }
    this.total = sum;
  }

  int size() {
    return backends.length;
  }

  /** One backend at random by weight, tried or not; null when there are none. */
  @Nullable Backend any(IntUnaryOperator random) {
    if (total == 0) {
      return null;
    }
    int r = random.applyAsInt(total);
    int i = Arrays.binarySearch(cumulative, r + 1);
    return backends[i >= 0 ? i : -i - 1];
  }

  /** One untried backend at random by weight: a few draws, then a weighted draw among the untried ones. */
  @Nullable Backend draw(IntUnaryOperator random, PickContext context) {
    for (int attempt = 0; attempt < 4; attempt++) {
      Backend b = any(random);
      if (b == null) {
        return null;
      }
      if (!context.tried(b)) {
        return b;
      }
    }
    int untried = 0;
    for (Backend b : backends) {
      if (!context.tried(b)) {
        untried += b.weight();
      }
    }
    if (untried == 0) {
      return null;
    }
    int r = random.applyAsInt(untried);
    for (Backend b : backends) {
      if (!context.tried(b)) {
        r -= b.weight();
        if (r < 0) {
          return b;
        }
      }
    }
    return null;
  }
}
