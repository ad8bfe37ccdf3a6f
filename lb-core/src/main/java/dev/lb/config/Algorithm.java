package dev.lb.config;

/** Balancing algorithms, by their names in the configuration. */
public enum Algorithm {
  ROUND_ROBIN("round_robin"),
  WEIGHTED_ROUND_ROBIN("weighted_round_robin"),
  LEAST_CONNECTIONS("least_connections"),
  RANDOM("random"),
  POWER_OF_TWO("power_of_two"),
  CONSISTENT_HASH("consistent_hash");

  private final String key;

  Algorithm(String key) {
    this.key = key;
  }

  /** The name used in YAML. */
  public String key() {
    return key;
  }
}
