package dev.lb.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.Locale;

/**
 * The syntax rules {@link RequestGuard} holds a request head to, as plain static methods: the one accepted form of
 * {@code Content-Length}, the forms of a request target and of a Host value, and the plain spelling framing fields
 * are rewritten to. No state, no Netty pipeline; each rule is tested directly.
 */
final class RequestSyntax {
  private RequestSyntax() {}

  /** What {@link #contentLength(HttpHeaders)} answers for a Content-Length that is not exactly one number. */
  static final long INVALID_LENGTH = -2;

  /**
   * The request's Content-Length: -1 when it has none, {@link #INVALID_LENGTH} unless there is exactly one field whose
   * value is digits only (RFC 9110 8.6) and fits in 63 bits. Lists, signs, spaces and repeats are all refused, even
   * when every value is the same.
   */
  static long contentLength(HttpHeaders headers) {
    String value = headers.get(HttpHeaderNames.CONTENT_LENGTH);
    if (value == null) {
      return -1;
    }
    if (headers.getAll(HttpHeaderNames.CONTENT_LENGTH).size() != 1) {
      return INVALID_LENGTH;
    }
    int n = value.length();
    if (n == 0) {
      return INVALID_LENGTH;
    }
    long length = 0;
    for (int i = 0; i < n; i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return INVALID_LENGTH;
      }
      if (length > (Long.MAX_VALUE - (c - '0')) / 10) {
        return INVALID_LENGTH;
      }
      length = length * 10 + (c - '0');
    }
    return length;
  }

  /**
   * Rewrites the framing fields of an accepted request to their one plain spelling, so that no hop after this one
   * can read the length differently: {@code Content-Length} as the decimal number it is ({@code 0003} becomes
   * {@code 3}), {@code Transfer-Encoding} as one field of lower-case codings without empty list elements
   * ({@code , ChUnKeD} becomes {@code chunked}).
   *
   * @param length the accepted request's {@link #contentLength(HttpHeaders)}: -1, or the one valid value
   */
  static void normaliseFraming(HttpHeaders headers, long length) {
    if (length >= 0) {
      // Digits only, so the plain spelling differs only by leading zeros.
      String value = headers.get(HttpHeaderNames.CONTENT_LENGTH);
      if (value.length() > 1 && value.charAt(0) == '0') {
        headers.set(HttpHeaderNames.CONTENT_LENGTH, Long.toString(length));
      }
    }
    if (headers.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
      List<String> values = headers.getAll(HttpHeaderNames.TRANSFER_ENCODING);
      StringBuilder codings = new StringBuilder(16);
      for (String value : values) {
        for (String coding : value.split(",")) {
          String c = coding.trim();
          if (!c.isEmpty()) {
            codings.append(codings.length() == 0 ? "" : ", ").append(c.toLowerCase(Locale.ROOT));
          }
        }
      }
      String plain = codings.toString();
      if (values.size() != 1 || !plain.equals(values.get(0))) {
        headers.set(HttpHeaderNames.TRANSFER_ENCODING, plain);
      }
    }
  }

  /**
   * A request target is origin-form ({@code /path?query}), absolute-form ({@code http://authority/path}, without
   * userinfo) or {@code *}, in visible ASCII: no spaces, controls, fragment, or bytes a later hop could split on.
   */
  static boolean validTarget(String uri) {
    int n = uri.length();
    if (n == 0) {
      return false;
    }
    int start;
    char first = uri.charAt(0);
    if (first == '/') {
      start = 1;
    } else if (n == 1 && first == '*') {
      return true;
    } else {
      int authority = schemeEnd(uri);
      if (authority < 0) {
        return false;
      }
      int end = authorityEnd(uri, authority);
      if (end == authority || !validHost(uri.substring(authority, end))) {
        return false;
      }
      start = end;
    }
    for (int i = start; i < n; i++) {
      char c = uri.charAt(i);
      if (c <= ' ' || c >= 0x7f || c == '#') {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether an absolute-form target names the same authority as the Host field (ignoring case), so that a backend
   * routing on either sees the same one; true for the other forms, which carry no authority.
   */
  static boolean authorityMatches(String uri, String host) {
    int start = schemeEnd(uri);
    if (start < 0) {
      return true;
    }
    int end = authorityEnd(uri, start);
    return end - start == host.length() && uri.regionMatches(true, start, host, 0, host.length());
  }

  /** Where the authority that starts at {@code start} ends: at the path, the query, or the end of the target. */
  private static int authorityEnd(String uri, int start) {
    int end = start;
    while (end < uri.length() && uri.charAt(end) != '/' && uri.charAt(end) != '?') {
      end++;
    }
    return end;
  }

  /** Where the authority starts after {@code http://} or {@code https://} (any case), or -1 for another form. */
  private static int schemeEnd(String uri) {
    if (uri.regionMatches(true, 0, "http://", 0, 7)) {
      return 7;
    }
    if (uri.regionMatches(true, 0, "https://", 0, 8)) {
      return 8;
    }
    return -1;
  }

  private static final boolean[] HOST_CHARS = new boolean[128];

  static {
    for (char c = 'a'; c <= 'z'; c++) {
      HOST_CHARS[c] = true;
      HOST_CHARS[Character.toUpperCase(c)] = true;
    }
    for (char c = '0'; c <= '9'; c++) {
      HOST_CHARS[c] = true;
    }
    // unreserved, pct-encoded, sub-delims, and the ':' '[' ']' of ports and IP literals (RFC 3986 3.2.2)
    for (char c : "-._~%!$&'()*+,;=:[]".toCharArray()) {
      HOST_CHARS[c] = true;
    }
  }

  /**
   * Whether a Host value (or the authority of an absolute-form target) is {@code host[:port]} as RFC 3986 spells it:
   * no whitespace, no userinfo, no path, query or fragment characters, nothing outside ASCII. Empty is valid.
   */
  static boolean validHost(String host) {
    for (int i = 0, n = host.length(); i < n; i++) {
      char c = host.charAt(i);
      if (c >= 128 || !HOST_CHARS[c]) {
        return false;
      }
    }
    return true;
  }

  /** Whether {@code b} may appear in a Host value ({@link #validHost}). */
  static boolean isHostChar(byte b) {
    return b >= 0 && HOST_CHARS[b];
  }
}
