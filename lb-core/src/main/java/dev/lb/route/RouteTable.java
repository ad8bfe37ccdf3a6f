package dev.lb.route;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Which route a request takes, by its host and path: the first configured route, in configuration order, whose host
 * and path prefix both match; else the fallback (the default upstream), or none (the caller answers 404).
 *
 * <p><b>Host.</b> The request's host is the authority of an absolute-form target ({@code GET http://h/p}; the
 * {@code Host} header is then ignored, RFC 9112 3.2.2), else the {@code Host} header. Case is ignored, and so are a
 * port ({@code API.example.com:8443} is {@code api.example.com}; {@code [::1]:80} is {@code [::1]}), surrounding
 * spaces, one trailing dot ({@code example.com.}) and, in an absolute-form target, user information. A route's host
 * is exact, or {@code *.name}, which matches every host ending in {@code .name} with at least one label before it
 * ({@code a.example.com}, {@code a.b.example.com}; never {@code example.com}). A route without a host matches any
 * host. A request without a host (HTTP/1.0 without {@code Host}, an empty one) matches only routes without a host.
 *
 * <p><b>Path.</b> Prefixes match the path in normal form ({@link PathNormalizer}) on segment boundaries: prefix
 * {@code /v1} matches {@code /v1}, {@code /v1/} and {@code /v1/x}, never {@code /v10}; a trailing slash in the prefix
 * changes nothing ({@code /v1/} is {@code /v1}: as Envoy's {@code path_separated_prefix}, which also matches the
 * prefix itself without its slash, and unlike a plain string prefix). Prefix {@code /}, or none, matches every path,
 * and so does a target without a path ({@code OPTIONS *}), which is matched as {@code /}. Paths are case-sensitive.
 *
 * <p><b>Structure.</b> Built once, read by every event loop. For every host named exactly in some route, the list of
 * routes that can match it (those of that host, the wildcards that match it and those without a host) in
 * configuration order; the same for every wildcard suffix (the routes of that wildcard, of the wildcards whose
 * suffix is also a suffix of it, and those without a host), and for hosts that are neither. Both maps are looked up
 * ignoring case without allocating ({@link HostTable}); a host that is not exact takes the list of its longest
 * configured wildcard suffix, found by walking its dots from the left, since every wildcard matching it is a
 * suffix of that one. The chosen list is then scanned for the first prefix that matches; a list ends at its first
 * route that matches any path. A lookup allocates nothing unless the path needs normalising, which one scan finds
 * out; then it allocates that path.
 */
public final class RouteTable<U> {
  private final List<Route<U>> routes;
  private final HostTable<Route<U>[]> exact;
  private final HostTable<Route<U>[]> wildcards;
  private final boolean hasWildcards;
  private final Route<U>[] anyHost;
  private final @Nullable Route<U> fallback;

  private RouteTable(List<Route<U>> routes, HostTable<Route<U>[]> exact, HostTable<Route<U>[]> wildcards,
      boolean hasWildcards, Route<U>[] anyHost, @Nullable Route<U> fallback) {
    this.routes = routes;
    this.exact = exact;
    this.wildcards = wildcards;
    this.hasWildcards = hasWildcards;
    this.anyHost = anyHost;
    this.fallback = fallback;
  }

  /**
   * A table of the routes, in configuration order.
   *
   * @param upstreams the caller's upstream for each route's upstream name; null for an unknown name
   * @param fallback the upstream of requests that match no route; null for none (404)
   * @throws IllegalArgumentException when a route names an upstream that {@code upstreams} does not know
   */
  public static <U> RouteTable<U> build(
      List<RouteSpec> specs, Function<String, ? extends @Nullable U> upstreams, @Nullable U fallback) {
    List<Route<U>> routes = new ArrayList<>(specs.size());
    for (int i = 0; i < specs.size(); i++) {
      RouteSpec spec = requireNonNull(specs.get(i), "route");
      U upstream = upstreams.apply(spec.upstream());
      if (upstream == null) {
        throw new IllegalArgumentException("route " + i + ": unknown upstream '" + spec.upstream() + "'");
      }
      routes.add(new Route<>(i, upstream,
          spec.pathPrefix() == null ? null : RouteSpec.canonical(spec.pathPrefix()), spec.stripPrefix()));
    }
    Map<String, Route<U>[]> exact = new LinkedHashMap<>();
    Map<String, Route<U>[]> wildcards = new LinkedHashMap<>();
    for (RouteSpec spec : specs) {
      String host = spec.host();
      if (host == null) {
        continue;
      }
      if (spec.wildcard()) {
        // The hosts whose longest configured wildcard suffix is this one (and that are not exact): every wildcard
        // whose suffix ends this one matches them, no other does, and no exact route.
        String suffix = host.substring(1); // ".example.com"
        wildcards.computeIfAbsent(suffix, s -> bucket(specs, routes, r -> r.wildcard() && s.endsWith(suffix(r))));
      } else {
        exact.computeIfAbsent(host, h -> bucket(specs, routes, r -> r.wildcard()
            ? h.endsWith(suffix(r)) && h.length() > suffix(r).length()
            : h.equals(r.host())));
      }
    }
    return new RouteTable<>(List.copyOf(routes), new HostTable<>(exact), new HostTable<>(wildcards),
        !wildcards.isEmpty(), bucket(specs, routes, r -> false),
        fallback == null ? null : new Route<>(-1, fallback, null, false));
  }

  /** The suffix {@code .name} of a wildcard route {@code *.name}. */
  private static String suffix(RouteSpec wildcard) {
    return requireNonNull(wildcard.host()).substring(1);
  }

  /**
   * The routes, in configuration order, that can match the hosts of one bucket: those without a host and those with
   * a host that {@code hosts} accepts; cut after the first that matches any path, as none after it can be reached.
   */
  private static <U> Route<U>[] bucket(List<RouteSpec> specs, List<Route<U>> routes, Predicate<RouteSpec> hosts) {
    List<Route<U>> bucket = new ArrayList<>();
    for (int i = 0; i < specs.size(); i++) {
      RouteSpec spec = specs.get(i);
      if (spec.host() == null || hosts.test(spec)) {
        bucket.add(routes.get(i));
        if (routes.get(i).matchesAnyPath()) {
          break;
        }
      }
    }
    @SuppressWarnings("unchecked")
    Route<U>[] array = bucket.toArray(new Route[0]);
    return array;
  }

  /** The routes, in configuration order. */
  public List<Route<U>> routes() {
    return routes;
  }

  /** The fallback route, or null when there is none. */
  public @Nullable Route<U> fallback() {
    return fallback;
  }

  /**
   * The route of a request: the first configured route that matches, else the fallback; null when neither (the
   * caller answers 404). Allocates nothing unless the path needs normalising.
   *
   * @param hostHeader the {@code Host} header's value, null when absent
   * @param requestTarget the request target as sent (origin-form, absolute-form, {@code *}, ...)
   */
  public @Nullable Route<U> lookup(@Nullable CharSequence hostHeader, CharSequence requestTarget) {
    int length = requestTarget.length();
    int pathStart;
    Route<U>[] bucket;
    if (length > 0 && requestTarget.charAt(0) == '/') {
      pathStart = 0;
      bucket = hostHeader == null ? anyHost : bucket(hostHeader, 0, hostHeader.length(), false);
    } else {
      int authority = RequestTarget.authorityStart(requestTarget);
      if (authority >= 0) {
        int authorityEnd = RequestTarget.authorityEnd(requestTarget, authority);
        pathStart = authorityEnd < length && requestTarget.charAt(authorityEnd) == '/' ? authorityEnd : -1;
        bucket = bucket(requestTarget, authority, authorityEnd, true);
      } else {
        pathStart = -1;
        bucket = hostHeader == null ? anyHost : bucket(hostHeader, 0, hostHeader.length(), false);
      }
    }
    if (bucket.length == 0) {
      return fallback;
    }
    if (bucket[0].matchesAnyPath()) {
      return bucket[0];
    }
    if (pathStart < 0) {
      return scan(bucket, "/", 0, 1);
    }
    int pathEnd = PathNormalizer.scanPath(requestTarget, pathStart);
    if (pathEnd >= 0) {
      return scan(bucket, requestTarget, pathStart, pathEnd);
    }
    String path = PathNormalizer.normalize(requestTarget, pathStart, -1 - pathEnd);
    return scan(bucket, path, 0, path.length());
  }

  private @Nullable Route<U> scan(Route<U>[] bucket, CharSequence path, int from, int to) {
    for (Route<U> route : bucket) {
      if (route.matches(path, from, to)) {
        return route;
      }
    }
    return fallback;
  }

  /** The routes that can match the host in {@code s[from, to)} (a {@code Host} value, or an authority). */
  private Route<U>[] bucket(CharSequence s, int from, int to, boolean authority) {
    while (from < to && isSpace(s.charAt(from))) {
      from++;
    }
    while (to > from && isSpace(s.charAt(to - 1))) {
      to--;
    }
    if (authority) {
      for (int i = to - 1; i >= from; i--) {
        if (s.charAt(i) == '@') {
          from = i + 1;
          break;
        }
      }
    }
    if (from < to && s.charAt(from) == '[') {
      for (int i = from + 1; i < to; i++) {
        if (s.charAt(i) == ']') {
          to = i + 1;
          break;
        }
      }
    } else {
      for (int i = from; i < to; i++) {
        if (s.charAt(i) == ':') {
          to = i;
          break;
        }
      }
      if (to > from && s.charAt(to - 1) == '.') {
        to--;
      }
    }
    if (from == to) {
      return anyHost;
    }
    Route<U>[] bucket = exact.get(s, from, to);
    if (bucket != null) {
      return bucket;
    }
    if (hasWildcards) {
      for (int i = from + 1; i < to; i++) {
        if (s.charAt(i) == '.') {
          bucket = wildcards.get(s, i, to);
          if (bucket != null) {
            return bucket;
          }
        }
      }
    }
    return anyHost;
  }

  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t';
  }
}
