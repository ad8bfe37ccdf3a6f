package dev.lb.balance;

import dev.lb.config.BalancingConfig;

/** Makes the balancer a configuration names. */
public final class LoadBalancers {
  private LoadBalancers() {}

  public static LoadBalancer create(BalancingConfig config) {
    switch (config.algorithm()) {
      case ROUND_ROBIN:
        return new RoundRobinBalancer();
      case WEIGHTED_ROUND_ROBIN:
        return new WeightedRoundRobinBalancer();
      case LEAST_CONNECTIONS:
        return new LeastConnectionsBalancer();
      case RANDOM:
        return new RandomBalancer();
      case POWER_OF_TWO:
        return new PowerOfTwoBalancer();
      case CONSISTENT_HASH:
        return new ConsistentHashBalancer(config.hashKey());
      default:
        throw new IllegalArgumentException("balancing.algorithm: " + config.algorithm().key());
    }
  }
}
