package dev.lb.config;

import java.time.Duration;
import java.util.List;

/**
 * How names of {@link DnsBackendConfig DNS backends} are resolved.
 *
 * @param resolvers name servers as {@code host} or {@code host:port} ({@code [v6]:port}); empty: those of
 *     {@code /etc/resolv.conf}
 * @param minRefresh the shortest time between two resolutions of a name (a record's TTL is clamped to it; also the
 *     retry after a failure)
 * @param maxRefresh the longest time between two resolutions of a name
 * @param nxHold how long a name must answer NXDOMAIN or nothing before its members are removed
 * @param timeout how long one query may take
 */
public record DiscoveryConfig(
    List<String> resolvers, Duration minRefresh, Duration maxRefresh, Duration nxHold, Duration timeout) {

  public DiscoveryConfig {
    resolvers = List.copyOf(resolvers);
  }

  public static DiscoveryConfig defaults() {
    return new DiscoveryConfig(List.of(), Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(10),
        Duration.ofSeconds(2));
  }
}
