package dev.lb.balance;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendGroup;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntUnaryOperator;

/**
 * A backend drawn at random, in proportion to its weight. A retry draws again among the backends not tried.
 */
public final class RandomBalancer implements LoadBalancer {
  private final IntUnaryOperator random;

  /** Draws with {@link ThreadLocalRandom}. */
  public RandomBalancer() {
    this(bound -> ThreadLocalRandom.current().nextInt(bound));
  }

  /** @param random returns a number from 0 (inclusive) to its argument (exclusive); injected by tests */
  public RandomBalancer(IntUnaryOperator random) {
    this.random = random;
  }

  @Override
  public Picker picker(BackendGroup group) {
    WeightedDraw draw = new WeightedDraw(group.available());
    return context -> draw.draw(random, context);
  }
}
