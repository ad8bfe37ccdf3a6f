package dev.lb.discovery;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * How {@link DnsDiscovery} resolves and refreshes names.
 *
 * @param resolvers name servers to ask, in turn (each query goes to the next); empty: those of
 *     {@code /etc/resolv.conf}, read once when the {@link DnsDiscovery} is made
 * @param minRefresh the shortest time between two resolutions of a name: a smaller TTL is raised to it, and a failed
 *     or negative resolution is retried after it
 * @param maxRefresh the longest time between two resolutions of a name: a larger TTL is lowered to it, and retries
 *     after repeated failures back off up to it
 * @param nxHold how long a name must have answered NXDOMAIN or no records, without a good answer in between, before
 *     its members are dropped (HAProxy's {@code hold nx})
 * @param queryTimeout how long one query may take before it counts as failed
 */
public record DiscoverySettings(
    List<InetSocketAddress> resolvers, Duration minRefresh, Duration maxRefresh, Duration nxHold,
    Duration queryTimeout) {

  /**
   * @throws IllegalArgumentException when a duration is not positive ({@code nxHold} may be zero), or
   *     {@code maxRefresh} is below {@code minRefresh}
   */
  public DiscoverySettings {
    resolvers = List.copyOf(resolvers);
    if (!positive(minRefresh) || !positive(queryTimeout) || nxHold.isNegative()) {
      throw new IllegalArgumentException("min refresh and query timeout must be positive, nx hold not negative");
    }
    if (maxRefresh.compareTo(minRefresh) < 0) {
      throw new IllegalArgumentException("max refresh " + maxRefresh + " is below min refresh " + minRefresh);
    }
  }

  private static boolean positive(Duration d) {
    return !d.isNegative() && !d.isZero();
  }

  /** The system's name servers; refresh between 1 s and 30 s; names held 10 s; queries time out after 2 s. */
  public static DiscoverySettings defaults() {
    return new DiscoverySettings(List.of(), Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(10),
        Duration.ofSeconds(2));
  }

  /** These settings asking {@code servers} instead. */
  public DiscoverySettings withResolvers(List<InetSocketAddress> servers) {
    return new DiscoverySettings(servers, minRefresh, maxRefresh, nxHold, queryTimeout);
  }
}
