package dev.lb.route;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * The table against the obvious loop over the routes, on random route sets and requests (fixed seed): the same route
 * taken, and the same rewritten target.
 */
class RouteTableRandomTest {
  private static final String[] ROUTE_HOSTS = {"example.com", "a.example.com", "b.example.com", "x.b.example.com",
      "*.example.com", "*.b.example.com", "*.x.b.example.com", "*.com", "other.org", "[::1]", "10.0.0.1"};
  private static final String[] PREFIXES = {"/", "/v1", "/v1/", "/v10", "/a", "/a/b", "/a/b/", "/static", "/A",
      "/a%2Fb", "/~x"};
  private static final String[] REQUEST_HOSTS = {"example.com", "a.example.com", "b.example.com", "x.b.example.com",
      "y.x.b.example.com", "q.a.example.com", "com", "foo.com", "other.org", "[::1]", "10.0.0.1", "", ".example.com",
      "xexample.com", "example.com.", "a..example.com", "[::1"};
  private static final String[] SEGMENTS = {"v1", "v10", "a", "b", "static", "A", "..", ".", "%2e", "%2E%2e", "%2F",
      "%2f", "a%2Fb", "a%2fb", "%7Ex", "~x", "%41", "", "x", "\\"};

  @Test
  void theTableTakesTheRouteTheNaiveLoopTakes() {
    Random random = new Random(42);
    int lookups = 0;
    int matched = 0;
    for (int set = 0; set < 1_500; set++) {
      List<RouteSpec> specs = new ArrayList<>();
      int count = 1 + random.nextInt(12);
      for (int i = 0; i < count; i++) {
        String host = random.nextInt(3) == 0 ? null : ROUTE_HOSTS[random.nextInt(ROUTE_HOSTS.length)];
        String prefix = random.nextInt(4) == 0 ? null : PREFIXES[random.nextInt(PREFIXES.length)];
        specs.add(new RouteSpec(host, prefix, "u" + i, prefix != null && random.nextBoolean()));
      }
      String fallback = random.nextBoolean() ? "fallback" : null;
      RouteTable<String> table = RouteTable.build(specs, Function.identity(), fallback);
      for (int r = 0; r < 150; r++) {
        String host = randomHost(random);
        String target = randomTarget(random);
        int expected = naiveIndex(specs, host, target);
        Route<String> route = table.lookup(host, target);
        int actual = route == null ? -2 : route.index();
        String what = "routes " + specs + ", Host " + host + ", target " + target;
        if (expected == -1 && fallback == null) {
          assertThat(route).as(what).isNull();
          continue;
        }
        assertThat(actual).as(what).isEqualTo(expected);
        lookups++;
        if (expected >= 0) {
          matched++;
          RouteSpec spec = specs.get(expected);
          assertThat(route.upstream()).isEqualTo(spec.upstream());
          assertThat(route.rewrite(target).toString()).as(what).isEqualTo(naiveRewrite(spec, target));
        } else {
          assertThat(route.upstream()).isEqualTo(fallback);
          assertThat(route.rewrite(target)).isSameAs(target);
        }
      }
    }
    assertThat(matched).as("enough lookups matched a route").isGreaterThan(lookups / 3);
    assertThat(lookups - matched).as("enough fell through").isGreaterThan(lookups / 20);
  }

  private static @Nullable String randomHost(Random random) {
    if (random.nextInt(10) == 0) {
      return null;
    }
    StringBuilder host = new StringBuilder(REQUEST_HOSTS[random.nextInt(REQUEST_HOSTS.length)]);
    for (int i = 0; i < host.length(); i++) {
      if (random.nextInt(4) == 0) {
        host.setCharAt(i, Character.toUpperCase(host.charAt(i)));
      }
    }
    if (random.nextInt(4) == 0) {
      host.append(":").append(random.nextInt(3) == 0 ? "" : "8443");
    }
    return host.toString();
  }

  private static String randomTarget(Random random) {
    if (random.nextInt(30) == 0) {
      return random.nextBoolean() ? "*" : "example.com:443";
    }
    StringBuilder path = new StringBuilder();
    int segments = random.nextInt(5);
    for (int i = 0; i < segments; i++) {
      path.append('/').append(SEGMENTS[random.nextInt(SEGMENTS.length)]);
    }
    if (path.length() == 0 || random.nextInt(5) == 0) {
      path.append('/');
    }
    if (random.nextInt(4) == 0) {
      path.append(random.nextBoolean() ? "?q=/../a" : "?v1/../a#x");
    }
    if (random.nextInt(8) == 0) {
      String authority = REQUEST_HOSTS[random.nextInt(REQUEST_HOSTS.length)];
      return (random.nextBoolean() ? "http://" : "HTTPS://u@") + authority + (random.nextBoolean() ? ":80" : "")
          + (random.nextInt(10) == 0 ? "" : path);
    }
    return path.toString();
  }

  /** The route the obvious loop takes: the first whose host and prefix match; -1 for none. */
  static int naiveIndex(List<RouteSpec> specs, @Nullable String hostHeader, String target) {
    String host;
    int scheme = target.indexOf("://");
    if (!target.startsWith("/") && scheme > 0 && target.substring(0, scheme).matches("[A-Za-z][A-Za-z0-9+.-]*")) {
      String authority = target.substring(scheme + 3).split("[/?#]", -1)[0];
      host = hostOf(authority.substring(authority.lastIndexOf('@') + 1));
    } else {
      host = hostHeader == null ? null : hostOf(hostHeader);
    }
    String path = PathNormalizerTest.naive(target);
    for (int i = 0; i < specs.size(); i++) {
      RouteSpec spec = specs.get(i);
      String h = spec.host();
      boolean hostMatches = h == null
          || (host != null && (spec.wildcard()
              ? host.endsWith(h.substring(1)) && host.length() > h.length() - 1
              : host.equals(h)));
      String p = spec.canonicalPrefix();
      boolean pathMatches = p.equals("/") || path.equals(p) || path.startsWith(p + "/");
      if (hostMatches && pathMatches) {
        return i;
      }
    }
    return -1;
  }

  private static @Nullable String hostOf(String value) {
    String v = value.strip();
    if (v.startsWith("[")) {
      int close = v.indexOf(']');
      v = close < 0 ? v : v.substring(0, close + 1);
    } else {
      int colon = v.indexOf(':');
      v = colon < 0 ? v : v.substring(0, colon);
      v = v.endsWith(".") ? v.substring(0, v.length() - 1) : v;
    }
    return v.isEmpty() ? null : v.toLowerCase(Locale.ROOT);
  }

  private static String naiveRewrite(RouteSpec spec, String target) {
    String p = spec.canonicalPrefix();
    if (!spec.stripPrefix() || p.equals("/")) {
      return target;
    }
    String path = PathNormalizerTest.naive(target);
    String rest = path.equals(p) ? "/" : path.substring(p.length());
    int start = target.startsWith("/") ? 0 : target.indexOf('/', target.indexOf("://") + 3);
    int end = start;
    while (end < target.length() && target.charAt(end) != '?' && target.charAt(end) != '#') {
      end++;
    }
    return target.substring(0, start) + rest + target.substring(end);
  }
}
