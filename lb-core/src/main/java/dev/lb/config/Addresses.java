package dev.lb.config;

import io.netty.util.NetUtil;
import java.util.Locale;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Syntax of the addresses in the configuration: host names, IP literals, CIDRs, backend URLs and HTTP header names.
 * Nothing here resolves a name; the checks are on the text alone.
 */
final class Addresses {
  static final String BACKEND_URL = "http://host[:port] or https://host[:port]";
  static final String BACKEND_PORT = BACKEND_URL + " with a port from 1 to 65535";

  private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?");
  private static final Pattern DIGITS_AND_DOTS = Pattern.compile("[0-9.]+");
  private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");
  private static final Pattern PREFIX = Pattern.compile("[0-9]{1,3}");
  private static final String TOKEN_SYMBOLS = "!#$%&'*+-.^_`|~";

  /**
   * A backend URL taken apart and normalised.
   *
   * @param written the URL as written, for messages
   * @param https whether the scheme is {@code https}
   */
  record HttpUrl(String url, String host, int port, String written, boolean https) {}

  private Addresses() {}

  /** A dotted-quad IPv4 address. */
  static boolean isIpv4(String text) {
    return NetUtil.isValidIpV4Address(text);
  }

  /** An IPv6 address without brackets and without a zone id. */
  static boolean isIpv6(String text) {
    // Netty also takes "[::1]" and "fe80::1%eth0"; neither belongs where a bare address is written.
    return text.indexOf('[') < 0
        && text.indexOf(']') < 0
        && text.indexOf('%') < 0
        && NetUtil.isValidIpV6Address(text);
  }

  /** A DNS name: dot-separated labels of letters, digits, '-' and '_' (container names use '_'). */
  static boolean isHostName(String text) {
    if (text.isEmpty() || text.length() > 253 || DIGITS_AND_DOTS.matcher(text).matches()) {
      // All digits and dots is an attempt at an IPv4 address, and not a valid one if we got here.
      return false;
    }
    for (String label : text.split("\\.", -1)) {
      if (!LABEL.matcher(label).matches()) {
        return false;
      }
    }
    return true;
  }

  /** Something a socket can bind to or connect to: a host name, an IPv4 or an IPv6 address (without brackets). */
  static boolean isHost(String text) {
    return isIpv4(text) || isIpv6(text) || isHostName(text);
  }

  /** An IPv4 or IPv6 address with an optional prefix length: {@code 10.0.0.0/8}, {@code ::1/128}, {@code 10.0.0.7}. */
  static boolean isAddressOrCidr(String text) {
    int slash = text.indexOf('/');
    String address = slash < 0 ? text : text.substring(0, slash);
    int maxPrefix;
    if (isIpv4(address)) {
      maxPrefix = 32;
    } else if (isIpv6(address)) {
      maxPrefix = 128;
    } else {
      return false;
    }
    if (slash < 0) {
      return true;
    }
    String prefix = text.substring(slash + 1);
    return PREFIX.matcher(prefix).matches() && Integer.parseInt(prefix) <= maxPrefix;
  }

  /** An HTTP token (RFC 9110), which is what a header name is. */
  static boolean isHeaderName(String text) {
    if (text.isEmpty()) {
      return false;
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || TOKEN_SYMBOLS.indexOf(c) >= 0;
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /**
   * Parses {@code http://host[:port]} or {@code https://host[:port]} with an optional trailing {@code /}, IPv6 hosts
   * in brackets. The scheme and host are lower-cased, IP addresses written in their canonical form and the port
   * always written, so that equal backends have equal URLs.
   *
   * @throws IllegalArgumentException with the rule broken ({@link #BACKEND_URL} or {@link #BACKEND_PORT}) as message
   */
  static HttpUrl parseBackendUrl(String text) {
    String scheme;
    if (text.regionMatches(true, 0, "http://", 0, 7)) {
      scheme = "http://";
    } else if (text.regionMatches(true, 0, "https://", 0, 8)) {
      scheme = "https://";
    } else {
      throw new IllegalArgumentException(BACKEND_URL);
    }
    boolean https = scheme.length() == 8;
    String rest = text.substring(scheme.length());
    if (rest.endsWith("/")) {
      rest = rest.substring(0, rest.length() - 1);
    }
    String host;
    String hostInUrl;
    String afterHost;
    if (rest.startsWith("[")) {
      int close = rest.indexOf(']');
      String literal = close < 0 ? "" : rest.substring(1, close);
      if (!isIpv6(literal)) {
        throw new IllegalArgumentException(BACKEND_URL);
      }
      host = canonicalIp(literal);
      hostInUrl = "[" + host + "]";
      afterHost = rest.substring(close + 1);
    } else {
      int colon = rest.indexOf(':');
      String name = colon < 0 ? rest : rest.substring(0, colon);
      if (isIpv4(name)) {
        host = canonicalIp(name);
      } else if (isHostName(name)) {
        host = name.toLowerCase(Locale.ROOT);
      } else {
        // Also catches a path, query, userinfo or an IPv6 address without brackets: none is a valid host name.
        throw new IllegalArgumentException(BACKEND_URL);
      }
      hostInUrl = host;
      afterHost = colon < 0 ? "" : rest.substring(colon);
    }
    int port = port(afterHost, https ? 443 : 80);
    return new HttpUrl(scheme + hostInUrl + ":" + port, host, port, text, https);
  }

  private static int port(String afterHost, int defaultPort) {
    if (afterHost.isEmpty()) {
      return defaultPort;
    }
    String digits = afterHost.substring(1);
    if (afterHost.charAt(0) != ':' || digits.isEmpty() || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new IllegalArgumentException(BACKEND_URL);
    }
    int port = PORT.matcher(digits).matches() ? Integer.parseInt(digits) : -1;
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(BACKEND_PORT);
    }
    return port;
  }

  private static String canonicalIp(String literal) {
    byte @Nullable [] bytes = NetUtil.createByteArrayFromIpAddressString(literal);
    if (bytes == null) {
      throw new IllegalArgumentException(BACKEND_URL);
    }
    return NetUtil.bytesToIpAddress(bytes);
  }
}
