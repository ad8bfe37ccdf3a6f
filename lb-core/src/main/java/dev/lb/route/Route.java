package dev.lb.route;

import org.jspecify.annotations.Nullable;

/**
 * The route a request matched: built once per configured route (and once for the fallback) when the table is built,
 * so that a lookup hands out the same object every time.
 *
 * @param index the route's position in the configuration, from 0; -1 for the fallback (no route matched)
 * @param upstream the caller's upstream for the route's upstream name
 * @param prefix the matched path prefix in its canonical form, without trailing slash ({@code /v1} for a configured
 *     {@code /v1/}), {@code /} for a route whose prefix is {@code /}; null for a route without a prefix and for the
 *     fallback
 * @param stripPrefix whether {@link #rewrite} removes the prefix from the forwarded path
 */
public record Route<U>(int index, U upstream, @Nullable String prefix, boolean stripPrefix) {

  /** Whether this route is the fallback, taken when no configured route matched. */
  public boolean fallback() {
    return index < 0;
  }

  /** Whether a normal-form path {@code s[from, to)} is under this route's prefix (on a segment boundary). */
  boolean matches(CharSequence s, int from, int to) {
    String p = prefix;
    if (p == null) {
      return true;
    }
    int n = p.length();
    int length = to - from;
    if (length < n || (length > n && s.charAt(from + n) != '/' && n > 1)) {
      return false;
    }
    for (int i = n - 1; i > 0; i--) { // p[0] and s[from] are both '/'
      if (s.charAt(from + i) != p.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** Whether this route matches every path (no prefix, or {@code /}). */
  boolean matchesAnyPath() {
    return prefix == null || prefix.length() == 1;
  }

  /**
   * The request target to forward for a request this route matched. Unchanged (the same object) unless the route
   * strips its prefix; then the path in normal form ({@link PathNormalizer}) without the prefix, keeping its leading
   * slash ({@code /static/a.css} with prefix {@code /static} is {@code /a.css}; a path equal to the prefix, with or
   * without a trailing slash, is {@code /}), followed by the rest of the target (query, and anything after it) as it
   * was sent. An absolute-form target keeps its {@code scheme://authority} as sent.
   *
   * @throws IllegalArgumentException when the target's path is not under the prefix (the route did not match it)
   */
  public CharSequence rewrite(CharSequence requestTarget) {
    String p = prefix;
    if (!stripPrefix || p == null || p.length() == 1) {
      return requestTarget;
    }
    int start = RequestTarget.pathStart(requestTarget);
    if (start < 0) {
      throw new IllegalArgumentException("no path under " + p + " in " + requestTarget);
    }
    int end = RequestTarget.pathEnd(requestTarget, start);
    String path = PathNormalizer.isNormal(requestTarget, start, end)
        ? requestTarget.subSequence(start, end).toString()
        : PathNormalizer.normalize(requestTarget, start, end);
    if (!matches(path, 0, path.length())) {
      throw new IllegalArgumentException("the path of " + requestTarget + " is not under " + p);
    }
    StringBuilder target = new StringBuilder(requestTarget.length() + 1);
    target.append(requestTarget, 0, start);
    if (path.length() == p.length()) {
      target.append('/');
    } else {
      target.append(path, p.length(), path.length());
    }
    return target.append(requestTarget, end, requestTarget.length()).toString();
  }
}
