package dev.lb.balance;

import dev.lb.backend.Backend;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntUnaryOperator;
import dev.lb.backend.BackendGroup;

/**
 * Power of two choices: two backends drawn at random (by weight), the one with fewer active requests per unit of
 * weight wins; on a tie, the first drawn. Nearly as good as least connections at spreading load, without looking at
 * every backend, and without herding onto one backend when several balancers see the same counts.
 */
public final class PowerOfTwoBalancer implements LoadBalancer {
  private final IntUnaryOperator random;

  public PowerOfTwoBalancer() {
    this(bound -> ThreadLocalRandom.current().nextInt(bound));
  }

  /** @param random returns a number from 0 (inclusive) to its argument (exclusive); injected by tests */
  public PowerOfTwoBalancer(IntUnaryOperator random) {
    this.random = random;
  }

  @Override
  public Picker picker(BackendGroup group) {
    WeightedDraw draw = new WeightedDraw(group.available());
    return context -> {
      Backend a = draw.draw(random, context);
      if (a == null || draw.size() == 1) {
        return a;
      }
      Backend b = null;
      for (int attempt = 0; attempt < 4 && (b == null || b == a); attempt++) {
        b = draw.draw(random, context);
      }
      if (b == null || b == a) {
        return a;
      }
      return LeastConnectionsBalancer.lessLoaded(b, a) ? b : a;
    };
  }
}
