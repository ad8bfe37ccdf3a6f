package dev.lb.route;

/**
 * The normal form of a request's path, which route prefixes are matched against. Only matching uses it: a request
 * is forwarded as it came, except that a {@code strip_prefix} route forwards the normal form minus its prefix
 * ({@link Route#rewrite}).
 *
 * <p>The path is the request target up to its first {@code ?} or {@code #} (for absolute-form,
 * {@code http://host/p?q}, what follows the authority); a target without a path ({@code *}, {@code host:443}, an
 * absolute-form target without {@code /} after its authority, an empty one) has the path {@code /}. The path is
 * then, in one pass:
 *
 * <ol>
 *   <li>percent-decoded for unreserved characters only (RFC 3986 2.3: letters, digits, {@code - . _ ~}), so
 *       {@code %2e} and {@code %2E} are {@code .} and {@code %41} is {@code A}; every other valid escape is kept,
 *       with its hex digits upper-cased ({@code %2f} is {@code %2F}); a {@code %} not followed by two hex digits is
 *       written {@code %25}, so that decoding never makes a new escape ({@code %4%41} is {@code %254A}, not
 *       {@code %4A}, which would be {@code J} the next time) and the normal form of a normal form is itself;
 *   <li>merged: a run of {@code /} is one {@code /};
 *   <li>resolved: {@code .} and {@code ..} segments are removed as RFC 3986 5.2.4 does (a {@code ..} at the root
 *       stays at the root; a path ending in {@code /.} or {@code /..} ends in {@code /}).
 * </ol>
 *
 * <p>An encoded slash, {@code %2F}, is not a separator: it stays inside its segment, so {@code /static%2F..%2Fadmin}
 * is one segment of that name and cannot climb out of anything. Neither is a backslash, which is kept as it is. Case
 * is kept (paths are case-sensitive), and so are characters outside ASCII.
 *
 * <p>A path is "already normal" when the pass would not change it; {@link #isNormal} finds out with one scan and no
 * allocation, and a lookup only allocates (once) for a path that is not.
 */
public final class PathNormalizer {
  private PathNormalizer() {}

  /** The normal form of the path of a request target (origin-form, absolute-form or other, as above). */
  public static String normalize(CharSequence target) {
    int start = RequestTarget.pathStart(target);
    if (start < 0) {
      return "/";
    }
    int end = RequestTarget.pathEnd(target, start);
    return isNormal(target, start, end) ? target.subSequence(start, end).toString() : normalize(target, start, end);
  }

  /**
   * Whether {@code s[from, to)}, a path that starts with {@code /}, is in normal form already: no empty segment but
   * the last, no {@code .} or {@code ..} segment, no escape of an unreserved character, no lower-case hex digit in
   * an escape and no {@code %} outside an escape.
   */
  static boolean isNormal(CharSequence s, int from, int to) {
    return scan(s, from, to) == to;
  }

  /**
   * Finds the end of the path that starts at {@code from} ({@code s[from]} is {@code /}; the path ends at the first
   * {@code ?} or {@code #}) and whether it is in normal form ({@link #isNormal}), in one scan: its end when it is,
   * else {@code -1 - end}.
   */
  static int scanPath(CharSequence s, int from) {
    return scan(s, from, s.length());
  }

  /** As {@link #scanPath}, the path ending at {@code to} at the latest. */
  private static int scan(CharSequence s, int from, int to) {
    boolean normal = true;
    int segment = from + 1; // where the current segment starts; s[from] is '/'
    int i = from + 1;
    for (; i < to; i++) {
      char c = s.charAt(i);
      if (c == '/') {
        if (i == segment || isDotSegment(s, segment, i)) {
          normal = false; // a doubled slash, or a dot segment
        }
        segment = i + 1;
      } else if (c == '%') {
        if (i + 2 >= to) {
          normal = false;
        } else {
          int hi = hex(s.charAt(i + 1));
          int lo = hex(s.charAt(i + 2));
          if (hi < 0 || lo < 0
              || isUnreserved((char) (hi << 4 | lo)) || isLowerHex(s.charAt(i + 1)) || isLowerHex(s.charAt(i + 2))) {
            normal = false;
          }
        }
      } else if (c == '?' || c == '#') {
        break;
      }
    }
    return normal && !isDotSegment(s, segment, i) ? i : -1 - i;
  }

  /** Whether {@code s[from, to)} is {@code .} or {@code ..}. */
  private static boolean isDotSegment(CharSequence s, int from, int to) {
    int n = to - from;
    return (n == 1 && s.charAt(from) == '.') || (n == 2 && s.charAt(from) == '.' && s.charAt(from + 1) == '.');
  }

  /** The normal form of {@code s[from, to)}, a path that starts with {@code /}. */
  static String normalize(CharSequence s, int from, int to) {
    int percents = 0;
    for (int i = from; i < to; i++) {
      if (s.charAt(i) == '%') {
        percents++;
      }
    }
    // Never longer, but for a stray '%' (written as 3) and the '/' of an empty path
    char[] out = new char[to - from + 2 * percents + 1];
    int o = 0;
    boolean trailingSlash = false;
    int i = from;
    while (i < to) {
      while (i < to && s.charAt(i) == '/') {
        i++;
      }
      int slash = o;
      out[o++] = '/';
      int segment = o;
      while (i < to) {
        char c = s.charAt(i);
        if (c == '/') {
          break;
        }
        int hi = c == '%' && i + 2 < to ? hex(s.charAt(i + 1)) : -1;
        int lo = hi >= 0 ? hex(s.charAt(i + 2)) : -1;
        if (lo >= 0) {
          char decoded = (char) (hi << 4 | lo);
          if (isUnreserved(decoded)) {
            out[o++] = decoded;
          } else {
            out[o++] = '%';
            out[o++] = Character.toUpperCase(s.charAt(i + 1));
            out[o++] = Character.toUpperCase(s.charAt(i + 2));
          }
          i += 3;
        } else if (c == '%') {
          // Written as an escape, so that decoding never makes a new escape ("%4%41" is not "%4A", i.e. "J")
          out[o++] = '%';
          out[o++] = '2';
          out[o++] = '5';
          i++;
        } else {
          out[o++] = c;
          i++;
        }
      }
      int n = o - segment;
      if (n == 1 && out[segment] == '.') {
        o = slash;
        trailingSlash = true;
      } else if (n == 2 && out[segment] == '.' && out[segment + 1] == '.') {
        o = slash;
        while (o > 0 && out[o - 1] != '/') {
          o--;
        }
        o = Math.max(0, o - 1); // drop the previous segment with its slash; at the root, nothing to drop
        trailingSlash = true;
      } else {
        trailingSlash = false;
      }
    }
    if (o == 0 || trailingSlash) {
      out[o++] = '/';
    }
    return new String(out, 0, o);
  }

  static boolean isUnreserved(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~';
  }

  private static boolean isLowerHex(char c) {
    return c >= 'a' && c <= 'f';
  }

  /** The value of a hex digit, or -1. */
  private static int hex(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }
}
