package dev.lb.config;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
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

  /** {@link #resolvers} as socket addresses (IP literals: no lookup). */
  public List<InetSocketAddress> nameServers() {
    List<InetSocketAddress> out = new ArrayList<>(resolvers.size());
    resolvers.forEach(r -> out.add(nameServer(r)));
    return out;
  }

  /**
   * A name server written as {@code host}, {@code host:port} or {@code [v6]:port} (port 53 by default).
   *
   * @throws IllegalArgumentException when it is not an IP literal with an optional port from 1 to 65535
   */
  public static InetSocketAddress nameServer(String text) {
    String host = text;
    String port = "53";
    if (text.startsWith("[")) {
      int close = text.indexOf(']');
      if (close < 0 || (close + 1 < text.length() && text.charAt(close + 1) != ':')) {
        throw new IllegalArgumentException("not [address]:port: " + text);
      }
      host = text.substring(1, close);
      port = close + 1 < text.length() ? text.substring(close + 2) : port;
    } else if (text.indexOf(':') >= 0 && text.indexOf(':') == text.lastIndexOf(':')) {
      host = text.substring(0, text.indexOf(':'));
      port = text.substring(text.indexOf(':') + 1);
    }
    byte[] address = IpAddresses.bytes(host);
    if (address == null || port.isEmpty() || port.length() > 5 || !port.chars().allMatch(Character::isDigit)
        || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
      throw new IllegalArgumentException("not an IP address with an optional port: " + text);
    }
    try {
      return new InetSocketAddress(InetAddress.getByAddress(address), Integer.parseInt(port));
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(text, e);
    }
  }

  public static DiscoveryConfig defaults() {
    return new DiscoveryConfig(List.of(), Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(10),
        Duration.ofSeconds(2));
  }
}
