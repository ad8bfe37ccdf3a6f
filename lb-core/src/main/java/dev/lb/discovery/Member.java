package dev.lb.discovery;

import io.netty.util.NetUtil;
import java.util.Comparator;
import org.jspecify.annotations.Nullable;

/**
 * One address a name resolved to: a backend to send requests to.
 *
 * @param ip an IP literal in canonical form (IPv4 dotted quad; IPv6 lower case, compressed, without brackets)
 * @param port TCP port, 1 to 65535
 * @param weight share of traffic, 1 to {@link #MAX_WEIGHT}
 */
public record Member(String ip, int port, int weight) implements Comparable<Member> {
  /** The largest weight lb takes (as for configured backends). */
  public static final int MAX_WEIGHT = 256;

  private static final Comparator<Member> ORDER = Comparator.comparing(Member::isIpv6)
      .thenComparing(Member::ipBytes, java.util.Arrays::compareUnsigned)
      .thenComparingInt(Member::port)
      .thenComparingInt(Member::weight);

  /**
   * Validates and canonicalises the address (so that equal addresses make equal members).
   *
   * @throws IllegalArgumentException when {@code ip} is not an IP literal, or port or weight is out of range
   */
  public Member {
    byte @Nullable [] bytes = ip.indexOf('[') < 0 && ip.indexOf('%') < 0
        ? NetUtil.createByteArrayFromIpAddressString(ip)
        : null;
    if (bytes == null) {
      throw new IllegalArgumentException("not an IP address: " + ip);
    }
    ip = NetUtil.bytesToIpAddress(bytes);
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
    if (weight < 1 || weight > MAX_WEIGHT) {
      throw new IllegalArgumentException("weight out of range: " + weight);
    }
  }

  /** A weight as written in DNS (SRV, 0 to 65535) made one lb takes: 0 counts as 1, above 256 as 256. */
  public static int clampWeight(int weight) {
    return Math.max(1, Math.min(MAX_WEIGHT, weight));
  }

  /**
   * The backend URL, as lb writes configured ones: {@code http://10.0.0.5:8080}, {@code http://[fd00::5]:8080}
   * (lower case, canonical address, always a port, no trailing slash).
   */
  public String url() {
    return "http://" + hostPort();
  }

  /** {@code 10.0.0.5:8080} or {@code [fd00::5]:8080}. */
  public String hostPort() {
    return (isIpv6() ? "[" + ip + "]" : ip) + ":" + port;
  }

  private boolean isIpv6() {
    return ip.indexOf(':') >= 0;
  }

  private byte[] ipBytes() {
    return NetUtil.createByteArrayFromIpAddressString(ip);
  }

  /** IPv4 before IPv6, then by address, port and weight: the order in which member sets are reported. */
  @Override
  public int compareTo(Member other) {
    return ORDER.compare(this, other);
  }
}
