package dev.lb.balance;

import dev.lb.config.BalancingConfig;

/** Makes the balancer a configuration names. */
public final class LoadBalancers {
  private LoadBalancers() {}

  /**
   * The balancer for this configuration.
   *
   * @throws IllegalArgumentException for an algorithm this build does not have
   */
  public static LoadBalancer create(BalancingConfig config) {
    switch (config.algorithm()) {
      case ROUND_ROBIN:
        return new RoundRobinBalancer();
      default:
        throw new IllegalArgumentException(
            "balancing.algorithm: " + config.algorithm().key() + " (expected: round_robin)");
    }
  }
}
