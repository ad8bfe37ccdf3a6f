package dev.lb.route;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * One configured route, as {@code routes:} lists it:
 * {@code { host: api.example.com, path_prefix: /v1/, upstream: api, strip_prefix: true }}.
 *
 * @param host the host it matches, lower-cased here: a name ({@code api.example.com}; letters, digits, {@code -},
 *     {@code _}, dot-separated labels of at most 63 characters, no trailing dot; an IPv4 address is such a name), an
 *     IPv6 literal in brackets ({@code [::1]}, matched as written, not canonicalised), or {@code *.} and a name
 *     ({@code *.example.com}: every host that ends in {@code .example.com} with at least one label before it, so
 *     {@code a.example.com} and {@code a.b.example.com}, never {@code example.com} itself; as nginx's and Envoy's
 *     {@code *.}). No port. Null: any host, and requests without one.
 * @param pathPrefix the path prefix it matches, on segment boundaries ({@link RouteTable}): starts with {@code /},
 *     in normal form ({@link PathNormalizer}) but for an optional trailing slash, which does not matter
 *     ({@code /v1} and {@code /v1/} are the same prefix); no {@code ?}, {@code #}, spaces or control characters.
 *     Null: any path.
 * @param upstream the name of the upstream it sends requests to
 * @param stripPrefix whether the prefix is removed from the path forwarded ({@link Route#rewrite}); needs a prefix
 */
public record RouteSpec(@Nullable String host, @Nullable String pathPrefix, String upstream, boolean stripPrefix) {
  private static final int MAX_HOST = 253;
  private static final int MAX_LABEL = 63;

  public RouteSpec {
    if (host != null) {
      host = host.toLowerCase(Locale.ROOT);
      String error = hostError(host);
      if (error != null) {
        throw new IllegalArgumentException("route host '" + host + "': " + error);
      }
    }
    if (pathPrefix != null) {
      String error = prefixError(pathPrefix);
      if (error != null) {
        throw new IllegalArgumentException("route path_prefix '" + pathPrefix + "': " + error);
      }
    }
    if (upstream == null || upstream.isEmpty()) {
      throw new IllegalArgumentException("route upstream: missing");
    }
    if (stripPrefix && pathPrefix == null) {
      throw new IllegalArgumentException("route strip_prefix: needs a path_prefix");
    }
  }

  /** Whether {@link #host} is {@code *.} and a name. */
  public boolean wildcard() {
    return host != null && host.startsWith("*.");
  }

  /**
   * The prefix as it is matched: without a trailing slash but for {@code /} itself; {@code /} for any path (also
   * when there is no prefix).
   */
  public String canonicalPrefix() {
    return canonical(pathPrefix);
  }

  static String canonical(@Nullable String prefix) {
    if (prefix == null) {
      return "/";
    }
    return prefix.length() > 1 && prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
  }

  private static @Nullable String hostError(String host) {
    if (host.isEmpty()) {
      return "empty (leave host out to match any host)";
    }
    if (host.startsWith("[")) {
      if (!host.endsWith("]") || host.length() < 4) {
        return "an IPv6 literal is [address], without a port";
      }
      for (int i = 1; i < host.length() - 1; i++) {
        char c = host.charAt(i);
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' || c == '.')) {
          return "not an IPv6 literal";
        }
      }
      return null;
    }
    String name = host.startsWith("*.") ? host.substring(2) : host;
    if (name.length() > MAX_HOST) {
      return "longer than " + MAX_HOST + " characters";
    }
    if (name.indexOf(':') >= 0) {
      return "no port (ports are ignored when matching)";
    }
    if (name.indexOf('*') >= 0) {
      return "only a leading '*.' is a wildcard";
    }
    int label = 0;
    for (int i = 0; i <= name.length(); i++) {
      char c = i < name.length() ? name.charAt(i) : '.';
      if (c == '.') {
        if (label == 0) {
          return "an empty label (no leading, trailing or doubled dots)";
        }
        label = 0;
      } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
        if (++label > MAX_LABEL) {
          return "a label longer than " + MAX_LABEL + " characters";
        }
      } else {
        return "'" + c + "' is not allowed in a host name";
      }
    }
    return null;
  }

  private static @Nullable String prefixError(String prefix) {
    if (!prefix.startsWith("/")) {
      return "must start with '/'";
    }
    for (int i = 0; i < prefix.length(); i++) {
      char c = prefix.charAt(i);
      if (c == '?' || c == '#' || c <= ' ' || c == 0x7f) {
        return "no '?', '#', spaces or control characters";
      }
    }
    if (!PathNormalizer.isNormal(prefix, 0, prefix.length())) {
      return "not in normal form (write it as " + PathNormalizer.normalize(prefix, 0, prefix.length()) + ")";
    }
    return null;
  }
}
