package dev.lb.route;

/**
 * Where the parts of a request target are, by index, so that a lookup parses it without allocating. The target is
 * origin-form ({@code /p?q}), absolute-form ({@code http://host:port/p?q}, RFC 9112 3.2.2), or anything else
 * (asterisk-form {@code *}, authority-form {@code host:443}, garbage), which has no path: it routes as {@code /}.
 */
final class RequestTarget {
  private RequestTarget() {}

  /**
   * The index just after {@code "://"} when the target is absolute-form ({@code scheme "://"}, the scheme a letter
   * then letters, digits, {@code + - .}), else -1.
   */
  static int authorityStart(CharSequence target) {
    int n = target.length();
    if (n == 0 || !isAlpha(target.charAt(0))) {
      return -1;
    }
    for (int i = 1; i < n; i++) {
      char c = target.charAt(i);
      if (c == ':') {
        return i + 2 < n && target.charAt(i + 1) == '/' && target.charAt(i + 2) == '/' ? i + 3 : -1;
      }
      if (!(isAlpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')) {
        return -1;
      }
    }
    return -1;
  }

  /** The end of the authority that starts at {@code from}: the first {@code / ? #}, or the end. */
  static int authorityEnd(CharSequence target, int from) {
    int n = target.length();
    for (int i = from; i < n; i++) {
      char c = target.charAt(i);
      if (c == '/' || c == '?' || c == '#') {
        return i;
      }
    }
    return n;
  }

  /**
   * Where the path starts: 0 for origin-form, the end of the authority for absolute-form with a path; -1 when there is
   * no path (it routes as {@code /}).
   */
  static int pathStart(CharSequence target) {
    int n = target.length();
    if (n > 0 && target.charAt(0) == '/') {
      return 0;
    }
    int authority = authorityStart(target);
    if (authority < 0) {
      return -1;
    }
    int end = authorityEnd(target, authority);
    return end < n && target.charAt(end) == '/' ? end : -1;
  }

  /** The end of the path that starts at {@code from}: the first {@code ?} or {@code #}, or the end. */
  static int pathEnd(CharSequence target, int from) {
    int n = target.length();
    for (int i = from; i < n; i++) {
      char c = target.charAt(i);
      if (c == '?' || c == '#') {
        return i;
      }
    }
    return n;
  }

  private static boolean isAlpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }
}
