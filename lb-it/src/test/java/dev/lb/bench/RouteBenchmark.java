package dev.lb.bench;

import dev.lb.route.Route;
import dev.lb.route.RouteSpec;
import dev.lb.route.RouteTable;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Choosing a request's route: {@link RouteTable#lookup} with the {@code Host} value as lb's raw request head has it
 * (an {@link AsciiString}, with a port) and the request target as a {@link String}. Every request pays it once.
 *
 * <ul>
 *   <li>{@code routes=1}: one route, {@code api.example.com} + {@code /v1/}, the baseline.
 *   <li>{@code routes=20}: a realistic configuration: 10 exact hosts with 1 or 2 prefixes each (12 routes), 4
 *       wildcards ({@code *.cdn.example.org} and others) and 4 host-less prefixes ({@code /static/},
 *       {@code /health}, ...), with a fallback.
 * </ul>
 *
 * Requests ({@code request}):
 * <ul>
 *   <li>{@code exact}: an exact host with a port, the second prefix of its two, a query string;
 *   <li>{@code wildcard}: a host that only a wildcard matches (two labels before its suffix);
 *   <li>{@code fallthrough}: a host and path that nothing matches, to the fallback (with 20 routes, after the
 *       host-less prefixes are tried);
 *   <li>{@code normalise}: the {@code exact} request with a path that needs normalising ({@code //}, {@code ./},
 *       {@code ../}, {@code %2e}), the only one that allocates (the normal form of its path).
 * </ul>
 *
 * The lookup fails the trial at setup if a request does not take the route it is meant to.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-XX:+UseG1GC", "-Xms1g", "-Xmx1g"})
public class RouteBenchmark {

  @State(Scope.Benchmark)
  public static class Table {
    @Param({"1", "20"})
    int routes;

    @Param({"exact", "wildcard", "fallthrough", "normalise"})
    String request;

    RouteTable<String> table;
    AsciiString host;
    String target;

    @Setup(Level.Trial)
    public void setUp() {
      List<RouteSpec> specs = new ArrayList<>();
      String exactHost;
      String exactPath;
      int exactIndex;
      int wildcardIndex;
      if (routes == 1) {
        specs.add(new RouteSpec("api.example.com", "/v1/", "api", false));
        exactHost = "api.example.com";
        exactPath = "/v1/users/42";
        exactIndex = 0;
        wildcardIndex = -1;
      } else {
        for (int i = 0; i < 10; i++) {
          specs.add(new RouteSpec("svc" + i + ".example.net", "/api/v1/", "svc" + i, false));
          if (i == 3 || i == 7) {
            specs.add(new RouteSpec("svc" + i + ".example.net", "/api/v2/", "svc" + i + "-v2", true));
          }
        }
        specs.add(new RouteSpec("*.cdn.example.org", null, "cdn", false));
        specs.add(new RouteSpec("*.example.net", "/public/", "public", false));
        specs.add(new RouteSpec("*.internal.example.com", null, "internal", false));
        specs.add(new RouteSpec("*.example.io", "/docs", "docs", false));
        specs.add(new RouteSpec(null, "/static/", "static", false));
        specs.add(new RouteSpec(null, "/health", "health", false));
        specs.add(new RouteSpec(null, "/.well-known/acme-challenge/", "acme", false));
        specs.add(new RouteSpec(null, "/metrics", "metrics", false));
        exactHost = "svc7.example.net";
        exactPath = "/api/v2/users/42";
        exactIndex = 9; // svc7's second route
        wildcardIndex = 12;
      }
      if (specs.size() != routes) {
        throw new IllegalStateException(specs.size() + " routes");
      }
      table = RouteTable.build(specs, name -> name, "default");
      int expected;
      switch (request) {
        case "exact" -> {
          host = AsciiString.of(exactHost + ":443");
          target = exactPath + "?fields=name,email";
          expected = exactIndex;
        }
        case "wildcard" -> {
          host = AsciiString.of("eu-west.edge.cdn.example.org");
          target = "/assets/app.4f3a9c.js";
          expected = wildcardIndex;
        }
        case "fallthrough" -> {
          host = AsciiString.of("www.unknown-site.com");
          target = "/blog/2026/12/routing-tables.html";
          expected = -1;
        }
        case "normalise" -> {
          host = AsciiString.of(exactHost + ":443");
          target = exactPath.replace("/users/", "//./users/%2e%2e/users/") + "?fields=name,email";
          expected = exactIndex;
        }
        default -> throw new IllegalArgumentException("request: " + request);
      }
      Route<String> route = table.lookup(host, target);
      if (route == null || route.index() != expected) {
        throw new IllegalStateException(request + " took " + route + ", not route " + expected);
      }
    }
  }

  @Benchmark
  public @Nullable Route<String> lookup(Table table) {
    return table.table.lookup(table.host, table.target);
  }
}
