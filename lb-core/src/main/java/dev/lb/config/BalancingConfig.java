package dev.lb.config;

/**
 * How requests are shared among backends.
 *
 * @param hashKey for {@code consistent_hash}: the client address ({@code client_ip}) or a header
 */
public record BalancingConfig(Algorithm algorithm, KeySource hashKey) {
  public static BalancingConfig defaults() {
    return new BalancingConfig(Algorithm.ROUND_ROBIN, KeySource.CLIENT_ADDRESS);
  }
}
