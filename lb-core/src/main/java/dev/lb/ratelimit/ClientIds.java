package dev.lb.ratelimit;

import dev.lb.config.IpAddresses;

/**
 * Client ids as keys: an id that is an IP address is written in its canonical form ({@code ::1}, not
 * {@code 0:0:0:0:0:0:0:1}; an IPv4-mapped IPv6 address as IPv4), so that a limit set for an address matches the
 * address lb sees; any other id is kept as it is.
 */
public final class ClientIds {
  /** Longest client id. */
  public static final int MAX_LENGTH = 512;

  private ClientIds() {}

  public static String normalize(String clientId) {
    byte[] bytes = IpAddresses.bytes(clientId);
    if (bytes == null) {
      return clientId;
    }
    return IpAddresses.text(mappedToV4(bytes));
  }

  /** The IPv4 address inside an IPv4-mapped IPv6 address ({@code ::ffff:a.b.c.d}), else the bytes as given. */
  public static byte[] mappedToV4(byte[] bytes) {
    if (bytes.length != 16) {
      return bytes;
    }
    for (int i = 0; i < 10; i++) {
      if (bytes[i] != 0) {
        return bytes;
      }
    }
    if (bytes[10] != (byte) 0xff || bytes[11] != (byte) 0xff) {
      return bytes;
    }
    return new byte[] {bytes[12], bytes[13], bytes[14], bytes[15]};
  }

  /**
   * Why this id is not acceptable, or null when it is: 1 to 512 characters, no control characters, no spaces at
   * either end (header keys are trimmed, so such an id could never match a request).
   */
  public static @org.jspecify.annotations.Nullable String problem(String clientId) {
    if (clientId.isEmpty() || clientId.length() > MAX_LENGTH) {
      return "a client id of 1 to " + MAX_LENGTH + " characters";
    }
    for (int i = 0; i < clientId.length(); i++) {
      char c = clientId.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        return "a client id without control characters";
      }
    }
    if (Character.isWhitespace(clientId.charAt(0)) || Character.isWhitespace(clientId.charAt(clientId.length() - 1))) {
      return "a client id without spaces at either end";
    }
    return null;
  }
}
