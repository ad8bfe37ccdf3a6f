package dev.lb.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

class RouteTableTest {
  /** Upstreams are their names. */
  private static RouteTable<String> table(@Nullable String fallback, RouteSpec... routes) {
    return RouteTable.build(List.of(routes), Function.identity(), fallback);
  }

  private static RouteSpec route(@Nullable String host, @Nullable String prefix, String upstream) {
    return new RouteSpec(host, prefix, upstream, false);
  }

  /** The index of the route taken, -1 for the fallback, -2 for none. */
  private static int index(RouteTable<String> table, @Nullable String host, String target) {
    Route<String> route = table.lookup(host, target);
    return route == null ? -2 : route.index();
  }

  /** The issue's example. */
  private final RouteTable<String> example = table("default",
      route("api.example.com", "/v1/", "api"),
      route("*.example.com", null, "web"),
      new RouteSpec(null, "/static/", "web", false));

  @Test
  void theExampleConfiguration() {
    assertThat(example.lookup("api.example.com", "/v1/users")).isEqualTo(new Route<>(0, "api", "/v1", false));
    assertThat(example.lookup("api.example.com", "/v2/users")).isEqualTo(new Route<>(1, "web", null, false));
    assertThat(example.lookup("www.example.com", "/v1/users").upstream()).isEqualTo("web");
    assertThat(example.lookup("example.com", "/static/a.css")).isEqualTo(new Route<>(2, "web", "/static", false));
    assertThat(example.lookup("other.org", "/")).isEqualTo(new Route<>(-1, "default", null, false));
    assertThat(example.lookup("other.org", "/").fallback()).isTrue();
    assertThat(example.fallback()).isSameAs(example.lookup("example.com", "/x"));
  }

  @Test
  void withoutAFallbackNoMatchIsNull() {
    RouteTable<String> table = table(null, route("a.example.com", null, "a"));
    assertThat(table.lookup("b.example.com", "/")).isNull();
    assertThat(table.lookup(null, "/")).isNull();
    assertThat(table(null).lookup("a", "/")).isNull();
    assertThat(table("d").lookup("a", "/").upstream()).isEqualTo("d");
  }

  @Test
  void lookupsHandOutTheSameRouteObjects() {
    assertThat(example.lookup("api.example.com", "/v1/a")).isSameAs(example.lookup("API.example.com:1", "/v1/b"))
        .isSameAs(example.routes().get(0));
  }

  @Test
  void hostsAreMatchedIgnoringCasePortAndATrailingDot() {
    RouteTable<String> table = table(null, route("api.example.com", null, "api"), route("[::1]", null, "v6"),
        route("10.0.0.1", null, "v4"));
    for (String host : new String[] {"api.example.com", "API.Example.COM", "api.example.com:8443",
        "API.example.com:8443", "api.example.com.", "api.example.com.:80", " api.example.com ", "api.example.com:"}) {
      assertThat(index(table, host, "/")).as(host).isEqualTo(0);
    }
    for (String host : new String[] {"[::1]", "[::1]:80", "[::1]:"}) {
      assertThat(index(table, host, "/")).as(host).isEqualTo(1);
    }
    assertThat(index(table, "10.0.0.1:8080", "/")).isEqualTo(2);
    for (String host : new String[] {"api.example.co", "pi.example.com", "xapi.example.com", "api.example.com..",
        "[::2]", "::1", "[::1", "", ":80", "api.example.com@x", "10.0.0.10"}) {
      assertThat(index(table, host, "/")).as(host).isEqualTo(-2);
    }
  }

  @Test
  void aWildcardMatchesOneOrMoreLabelsBeforeItsSuffixButNotTheSuffixItself() {
    RouteTable<String> table = table(null, route("*.example.com", null, "web"));
    assertThat(index(table, "a.example.com", "/")).isEqualTo(0);
    assertThat(index(table, "a.b.example.com", "/")).isEqualTo(0);
    assertThat(index(table, "A.B.EXAMPLE.COM:80", "/")).isEqualTo(0);
    assertThat(index(table, "example.com", "/")).isEqualTo(-2);
    assertThat(index(table, "aexample.com", "/")).isEqualTo(-2);
    assertThat(index(table, ".example.com", "/")).isEqualTo(-2);
    assertThat(index(table, "a.example.org", "/")).isEqualTo(-2);
  }

  @Test
  void wildcardsAndExactHostsAreTakenInConfigurationOrder() {
    RouteTable<String> table = table("d",
        route("*.example.com", "/a", "wild-a"),
        route("x.b.example.com", "/a", "exact-a"),
        route("*.b.example.com", null, "wild-b"),
        route("x.b.example.com", null, "exact"),
        route(null, "/c", "any-c"),
        route("*.example.com", null, "wild"));
    assertThat(index(table, "x.b.example.com", "/a/1")).isEqualTo(0);
    assertThat(index(table, "x.b.example.com", "/b")).as("the longer wildcard comes before the exact host")
        .isEqualTo(2);
    assertThat(index(table, "y.b.example.com", "/c")).isEqualTo(2);
    assertThat(index(table, "y.example.com", "/c")).as("host-less after wildcards").isEqualTo(4);
    assertThat(index(table, "y.example.com", "/d")).isEqualTo(5);
    assertThat(index(table, "b.example.com", "/d")).as("*.b.example.com is not b.example.com").isEqualTo(5);
    assertThat(index(table, "example.com", "/c")).isEqualTo(4);
    assertThat(index(table, "example.com", "/d")).isEqualTo(-1);
    assertThat(index(table, null, "/c")).isEqualTo(4);
  }

  @Test
  void aHostLessRouteBeforeHostRoutesWins() {
    RouteTable<String> table = table(null, route(null, "/x", "any"), route("a.com", null, "a"),
        route("*.a.com", "/x", "wa"));
    assertThat(index(table, "a.com", "/x/1")).isEqualTo(0);
    assertThat(index(table, "a.com", "/y")).isEqualTo(1);
    assertThat(index(table, "b.a.com", "/x")).isEqualTo(0);
    assertThat(index(table, "b.a.com", "/y")).isEqualTo(-2);
  }

  @Test
  void requestsWithoutAHostMatchOnlyHostLessRoutes() {
    RouteTable<String> table = table("d", route("a.com", null, "a"), route("*.com", null, "w"),
        route(null, "/p", "p"));
    assertThat(index(table, null, "/")).isEqualTo(-1);
    assertThat(index(table, null, "/p")).isEqualTo(2);
    assertThat(index(table, "", "/p")).isEqualTo(2);
    assertThat(index(table, "  ", "/")).isEqualTo(-1);
  }

  @Test
  void prefixesMatchOnSegmentBoundariesWithOrWithoutATrailingSlash() {
    for (String prefix : new String[] {"/v1", "/v1/"}) {
      RouteTable<String> table = table("d", route(null, prefix, "v1"));
      for (String path : new String[] {"/v1", "/v1/", "/v1/x", "/v1/x/y", "/v1?q", "/v1#f", "//v1//x", "/v1/x/..",
          "/a/../v1"}) {
        assertThat(index(table, "h", path)).as("%s matches %s", prefix, path).isEqualTo(0);
      }
      for (String path : new String[] {"/v10", "/v1x", "/v", "/", "/V1", "/x/v1", "/v1/..", "/v1%2Fx", "/v1.",
          "/v1%3F", "*", "/v10/x"}) {
        assertThat(index(table, "h", path)).as("%s does not match %s", prefix, path).isEqualTo(-1);
      }
      assertThat(table.routes().get(0).prefix()).isEqualTo("/v1");
    }
    RouteTable<String> deep = table("d", route(null, "/a/b", "ab"));
    assertThat(index(deep, "h", "/a/b/c")).isEqualTo(0);
    assertThat(index(deep, "h", "/a/bc")).isEqualTo(-1);
    assertThat(index(deep, "h", "/a")).isEqualTo(-1);
  }

  @Test
  void theRootPrefixAndNoPrefixMatchEveryPathAndTargetsWithoutOne() {
    RouteTable<String> table = table("d", route("a.com", "/", "root"), route(null, null, "all"));
    for (String target : new String[] {"/", "/x", "*", "a.com:443", "", "x/y"}) {
      assertThat(index(table, "a.com", target)).as(target).isEqualTo(0);
      assertThat(index(table, "b.com", target)).as(target).isEqualTo(1);
    }
    for (String target : new String[] {"http://a.com", "http://a.com?x", "http://a.com/x"}) {
      assertThat(index(table, "b.com", target)).as(target).isEqualTo(0);
      assertThat(index(table, "a.com", target.replace("a.com", "b.com"))).as(target).isEqualTo(1);
    }
    RouteTable<String> prefixed = table("d", route(null, "/x", "x"));
    assertThat(index(prefixed, "h", "*")).isEqualTo(-1);
    assertThat(index(prefixed, "h", "x/y")).as("a path without a leading slash is /").isEqualTo(-1);
  }

  @Test
  void pathsAreNormalisedBeforeMatching() {
    RouteTable<String> table = table("d", route(null, "/admin", "admin"), route(null, "/static", "static"),
        route(null, "/A", "A"));
    int admin = 0;
    int stat = 1;
    int fallback = -1;
    String[][] cases = {
        {"/static/../admin", "" + admin},
        {"/static/%2e%2e/admin", "" + admin},
        {"/static/%2E%2E/admin", "" + admin},
        {"/static/.%2E/admin/x", "" + admin},
        {"/static//../admin", "" + admin},
        {"//admin", "" + admin},
        {"/./admin", "" + admin},
        {"/static/./../admin/", "" + admin},
        {"/%61dmin", "" + admin},
        {"/../../admin", "" + admin},
        {"/admin/x/..", "" + admin},
        {"/static/x/..", "" + stat},
        {"/static/..", "" + fallback},
        {"/static%2F..%2Fadmin", "" + fallback},
        {"/static/%2f..%2fadmin", "" + stat},
        {"/static/..%2fadmin", "" + stat},
        {"/static\\..\\admin", "" + fallback},
        {"/static/..\\admin", "" + stat},
        {"/static/a?x=/../../admin", "" + stat},
        {"/x?/../admin", "" + fallback},
        {"/%41/x", "2"},
        {"/%2541", "" + fallback},
    };
    for (String[] c : cases) {
      assertThat(index(table, "h", c[0])).as(c[0]).isEqualTo(Integer.parseInt(c[1]));
    }
  }

  @Test
  void anAbsoluteFormTargetRoutesByItsAuthorityAndPath() {
    RouteTable<String> table = table("d", route("a.com", "/x", "ax"), route("b.com", null, "b"),
        route("*.c.com", null, "c"));
    assertThat(index(table, "b.com", "http://a.com/x/y")).isEqualTo(0);
    assertThat(index(table, "a.com", "http://b.com/x/y")).as("the authority, not Host").isEqualTo(1);
    assertThat(index(table, null, "HTTP://A.COM:8080/x?q")).isEqualTo(0);
    assertThat(index(table, null, "https://user:pw@a.com/x")).isEqualTo(0);
    assertThat(index(table, null, "http://a.com/y/../x")).isEqualTo(0);
    assertThat(index(table, null, "http://a.com")).isEqualTo(-1);
    assertThat(index(table, null, "http://a.com?/x")).isEqualTo(-1);
    assertThat(index(table, null, "http://b.com")).isEqualTo(1);
    assertThat(index(table, null, "http://w.c.com./")).isEqualTo(2);
    assertThat(index(table, "a.com", "http:///x")).as("an empty authority is no host").isEqualTo(-1);
  }

  @Test
  void stripPrefixRewritesTheNormalisedPathAndKeepsTheQuery() {
    RouteTable<String> table = table("d", new RouteSpec(null, "/static/", "s", true),
        new RouteSpec(null, "/api", "a", true), new RouteSpec(null, "/keep", "k", false),
        new RouteSpec("root.com", "/", "r", true));
    String[][] cases = {
        {"/static/a.css", "/a.css"},
        {"/static/a/b.css?v=1", "/a/b.css?v=1"},
        {"/static", "/"},
        {"/static/", "/"},
        {"/static?x", "/?x"},
        {"/static/?x=/../y", "/?x=/../y"},
        {"/static//a/./b/../c?q=%2e%2e", "/a/c?q=%2e%2e"},
        {"/x/../static/%2e/a%2fb%41#frag", "/a%2FbA#frag"},
        {"/api/v1/users?id=3&x=/../../", "/v1/users?id=3&x=/../../"},
        {"/api", "/"},
        {"http://h:80/api/x?y", "http://h:80/x?y"},
    };
    for (String[] c : cases) {
      Route<String> route = table.lookup("h", c[0]);
      assertThat(route.rewrite(c[0])).as(c[0]).hasToString(c[1]);
    }
    String keep = "/keep/../keep/x";
    assertThat(table.lookup("h", keep).rewrite(keep)).as("forwarded unchanged").isSameAs(keep);
    assertThat(table.lookup("root.com", "/a/./b").rewrite("/a/./b")).as("prefix /").isEqualTo("/a/./b");
    assertThat(table.lookup("h", "/other").rewrite("/other")).as("fallback").isEqualTo("/other");
    Route<String> api = table.routes().get(1);
    assertThatThrownBy(() -> api.rewrite("/apix")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> api.rewrite("*")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anyCharSequenceIsRead() {
    RouteTable<String> table = table("d", route("api.example.com", "/v1", "api"));
    StringBuilder host = new StringBuilder("API.example.com:443");
    StringBuilder target = new StringBuilder("/v1/x");
    assertThat(index(table, host.toString(), target.toString())).isEqualTo(0);
    assertThat(table.lookup(host, target).index()).isEqualTo(0);
  }

  @Test
  void routesNamingUnknownUpstreamsAreRefused() {
    assertThatThrownBy(() -> RouteTable.build(List.of(route(null, null, "nope")), name -> null, "d"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown upstream 'nope'");
  }

  @Test
  void routesAreValidated() {
    assertThat(new RouteSpec("API.Example.com", "/v1/", "u", true).host()).isEqualTo("api.example.com");
    assertThat(new RouteSpec("*.Example.com", null, "u", false).wildcard()).isTrue();
    assertThat(new RouteSpec("[::1]", null, "u", false).host()).isEqualTo("[::1]");
    assertThat(new RouteSpec(null, "/v1/", "u", false).canonicalPrefix()).isEqualTo("/v1");
    assertThat(new RouteSpec(null, "/", "u", false).canonicalPrefix()).isEqualTo("/");
    assertThat(new RouteSpec(null, null, "u", false).canonicalPrefix()).isEqualTo("/");
    for (String host : new String[] {"", "*", "*.", "a..b", ".a", "a.", "a:80", "a.*.b", "**.a", "a b", "[::1]:80",
        "[x]", "é.com", "a".repeat(64) + ".com"}) {
      assertThatThrownBy(() -> new RouteSpec(host, null, "u", false)).as(host)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("route host");
    }
    for (String prefix : new String[] {"", "v1", "/v1?", "/a#", "/a b", "//", "/a//b", "/a/./b", "/a/..", "/%41",
        "/a%2f"}) {
      assertThatThrownBy(() -> new RouteSpec(null, prefix, "u", false)).as(prefix)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("route path_prefix");
    }
    assertThatThrownBy(() -> new RouteSpec(null, "/a/../b", "u", false)).hasMessageContaining("write it as /b");
    assertThatThrownBy(() -> new RouteSpec(null, null, "u", true)).hasMessageContaining("strip_prefix");
    assertThatThrownBy(() -> new RouteSpec(null, null, "", false)).hasMessageContaining("upstream");
  }

  /** The common case, a path already in normal form, allocates nothing (measured over many lookups). */
  @Test
  void lookupsOfNormalPathsAllocateNothing() {
    RouteTable<String> table = table("d",
        route("api.example.com", "/v1", "api"), route("api.example.com", "/v2", "api2"),
        route("*.example.com", "/static", "web"), route("*.b.example.com", null, "b"),
        route(null, "/health", "h"));
    String[][] requests = {{"api.example.com", "/v2/users?id=1"}, {"API.EXAMPLE.COM:443", "/v1"},
        {"x.example.com", "/static/a.css"}, {"x.b.example.com", "/"}, {"other.org", "/health"},
        {"other.org", "/nothing/here"}, {null, "/"}, {"api.example.com", "http://api.example.com/v1/x"}};
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long[] sink = new long[1];
    Runnable run = () -> {
      for (int i = 0; i < 20_000; i++) {
        String[] r = requests[i % requests.length];
        sink[0] += table.lookup(r[0], r[1]).index();
      }
    };
    run.run(); // warm up
    long before = threads.getCurrentThreadAllocatedBytes();
    run.run();
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    assertThat(allocated).as("bytes allocated by 20,000 lookups").isLessThan(2_000);
    assertThat(sink[0]).isNotZero();
  }

  @Test
  void aTableListsItsRoutesInOrder() {
    assertThat(example.routes()).extracting(Route::index).containsExactly(0, 1, 2);
    assertThat(Arrays.asList(example.routes().get(2).prefix(), example.routes().get(1).prefix()))
        .containsExactly("/static", null);
  }
}
