package dev.lb.ratelimit;

import dev.lb.config.IpAddresses;
import java.util.ArrayList;
import java.util.List;

/**
 * A set of IPv4 and IPv6 networks ({@code 10.0.0.0/8}, {@code ::1/128}, or a plain address), matched against
 * addresses as bytes. IPv4-mapped IPv6 addresses match as the IPv4 address they carry.
 */
public final class CidrSet {
  private final List<byte[]> networks;
  private final int[] prefixes;

  private CidrSet(List<byte[]> networks, int[] prefixes) {
    this.networks = networks;
    this.prefixes = prefixes;
  }

  public static final CidrSet EMPTY = new CidrSet(List.of(), new int[0]);

  /**
   * Parses CIDRs or plain addresses.
   *
   * @throws IllegalArgumentException naming the first entry that is neither
   */
  public static CidrSet parse(List<String> entries) {
    List<byte[]> networks = new ArrayList<>();
    int[] prefixes = new int[entries.size()];
    for (int i = 0; i < entries.size(); i++) {
      String entry = entries.get(i).trim();
      int slash = entry.indexOf('/');
      String address = slash < 0 ? entry : entry.substring(0, slash);
      byte[] bytes = IpAddresses.bytes(address);
      if (bytes == null) {
        throw new IllegalArgumentException("not an address or CIDR: " + entry);
      }
      bytes = ClientIds.mappedToV4(bytes);
      int bits = bytes.length * 8;
      int prefix = slash < 0 ? bits : Integer.parseInt(entry.substring(slash + 1));
      if (prefix < 0 || prefix > bits) {
        throw new IllegalArgumentException("prefix out of range: " + entry);
      }
      networks.add(bytes);
      prefixes[i] = prefix;
    }
    return new CidrSet(List.copyOf(networks), prefixes);
  }

  public boolean isEmpty() {
    return networks.isEmpty();
  }

  /** Whether the address (raw bytes, IPv4-mapped allowed) is in one of the networks. */
  public boolean contains(byte[] address) {
    byte[] a = ClientIds.mappedToV4(address);
    for (int i = 0; i < prefixes.length; i++) {
      if (matches(networks.get(i), prefixes[i], a)) {
        return true;
      }
    }
    return false;
  }

  private static boolean matches(byte[] network, int prefix, byte[] address) {
    if (network.length != address.length) {
      return false;
    }
    int full = prefix / 8;
    for (int i = 0; i < full; i++) {
      if (network[i] != address[i]) {
        return false;
      }
    }
    int rest = prefix % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xff << (8 - rest)) & 0xff;
    return (network[full] & mask) == (address[full] & mask);
  }
}
