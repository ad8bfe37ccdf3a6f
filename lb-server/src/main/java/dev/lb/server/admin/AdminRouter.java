package dev.lb.server.admin;

import static java.util.Objects.requireNonNull;

import io.netty.handler.codec.http.HttpMethod;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * The admin routes: method and path pattern to handler, with the access each needs. Immutable once built, so one
 * router serves every admin connection. Endpoints are added by whoever owns them ({@link HealthEndpoints}, metrics,
 * backends, clients) without touching the proxy.
 *
 * <p>Matching: an exact pattern wins over a {@code {name}} pattern, and one ending in its parameter over one with a
 * fixed suffix after it; a {@code {name}} matches one non-empty raw segment, so {@code /clients/a%2Fb} matches
 * {@code /clients/{client_id}} with {@code a/b} while {@code /clients/a/b} matches nothing, and
 * {@code /backends/a%2Fb/drain} matches {@code /backends/{id}/drain} with {@code a/b}. {@code HEAD} is served by the {@code GET} route unless a {@code HEAD} route exists.
 */
public final class AdminRouter {
  private final Map<String, Map<HttpMethod, Route>> exact;
  private final Map<String, Map<HttpMethod, Route>> byParent;
  /** Patterns with a suffix, under their prefix and suffix joined by {@code {}}. */
  private final Map<String, Map<HttpMethod, Route>> bySuffix;

  private AdminRouter(Builder b) {
    this.exact = freeze(b.exact);
    this.byParent = freeze(b.byParent);
    this.bySuffix = freeze(b.bySuffix);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Finds the route for a method and a raw path (percent-encoded, no query). */
  RouteMatch match(HttpMethod method, String rawPath) {
    Map<HttpMethod, Route> routes = exact.get(rawPath);
    String rawParam = null;
    if (routes == null) {
      String parent = PathPattern.parentOf(rawPath);
      rawParam = rawPath.substring(parent.length());
      routes = rawParam.isEmpty() ? null : byParent.get(parent);
    }
    if (routes == null && !bySuffix.isEmpty()) {
      // One fixed segment after the parameter, the form every suffix pattern registered so far has.
      int last = rawPath.lastIndexOf('/');
      String rest = rawPath.substring(0, Math.max(0, last));
      String parent = PathPattern.parentOf(rest);
      rawParam = rest.substring(parent.length());
      routes = last <= 0 || rawParam.isEmpty() ? null : bySuffix.get(parent + "{}" + rawPath.substring(last));
    }
    if (routes == null) {
      return RouteMatch.NOT_FOUND;
    }
    Route route = routes.get(method);
    if (route == null && HttpMethod.HEAD.equals(method)) {
      route = routes.get(HttpMethod.GET);
    }
    if (route == null) {
      return new RouteMatch(null, null, allowHeader(routes));
    }
    return new RouteMatch(route, route.pattern().paramName() == null ? null : rawParam, "");
  }

  private static String allowHeader(Map<HttpMethod, Route> routes) {
    List<String> names = new ArrayList<>();
    for (HttpMethod m : routes.keySet()) {
      names.add(m.name());
      if (HttpMethod.GET.equals(m) && !routes.containsKey(HttpMethod.HEAD)) {
        names.add(HttpMethod.HEAD.name());
      }
    }
    return String.join(", ", names);
  }

  private static Map<String, Map<HttpMethod, Route>> freeze(Map<String, Map<HttpMethod, Route>> source) {
    Map<String, Map<HttpMethod, Route>> copy = new LinkedHashMap<>();
    source.forEach((k, v) -> copy.put(k, Collections.unmodifiableMap(new LinkedHashMap<>(v))));
    return Collections.unmodifiableMap(copy);
  }

  /** One registered route. {@code blocking} routes are run on the blocking executor, others on the event loop. */
  record Route(HttpMethod method, PathPattern pattern, Access access, AdminHandler handler, boolean blocking) {}

  /**
   * The outcome of {@link #match}: a route (with the raw, still encoded parameter segment if the route has one); or
   * no route, with the methods the path allows (405) or an empty {@code allow} when the path is unknown (404).
   */
  record RouteMatch(@Nullable Route route, @Nullable String rawParam, String allow) {
    static final RouteMatch NOT_FOUND = new RouteMatch(null, null, "");
  }

  /** Collects routes; not thread-safe. */
  public static final class Builder {
    private final Map<String, Map<HttpMethod, Route>> exact = new LinkedHashMap<>();
    private final Map<String, Map<HttpMethod, Route>> byParent = new LinkedHashMap<>();
    private final Map<String, Map<HttpMethod, Route>> bySuffix = new LinkedHashMap<>();

    private Builder() {}

    /**
     * Adds a route whose handler runs on the admin event loop and must not block.
     *
     * @param pattern an exact path ({@code /healthz}) or one with a single {@code {name}} segment, at its end
     *     ({@code /clients/{client_id}}) or followed by one fixed segment ({@code /backends/{id}/drain}), whose
     *     percent-decoded value the handler gets as a path parameter
     * @throws IllegalArgumentException for a malformed pattern, or a method and path registered twice
     */
    public Builder route(HttpMethod method, String pattern, Access access, AdminHandler handler) {
      return add(method, pattern, access, requireNonNull(handler, "handler"), false);
    }

    /**
     * Adds a route whose handler blocks (database work): it runs on the blocking executor given to {@link
     * AdminServer#start}, and its response is written back on the event loop.
     *
     * @throws IllegalArgumentException for a malformed pattern, or a method and path registered twice
     */
    public Builder routeBlocking(HttpMethod method, String pattern, Access access, BlockingAdminHandler handler) {
      requireNonNull(handler, "handler");
      AdminHandler adapted =
          request -> {
            try {
              return CompletableFuture.completedFuture(handler.handle(request));
            } catch (Exception e) {
              return CompletableFuture.failedFuture(e);
            }
          };
      return add(method, pattern, access, adapted, true);
    }

    private Builder add(HttpMethod method, String pattern, Access access, AdminHandler handler, boolean blocking) {
      requireNonNull(method, "method");
      requireNonNull(access, "access");
      PathPattern parsed = PathPattern.parse(pattern);
      if (parsed.suffix().indexOf('/', 1) >= 0) {
        throw new IllegalArgumentException("route: " + pattern + " (one fixed segment at most after a parameter)");
      }
      Map<String, Map<HttpMethod, Route>> table =
          parsed.paramName() == null ? exact : parsed.suffix().isEmpty() ? byParent : bySuffix;
      String key = parsed.suffix().isEmpty() ? parsed.prefix() : parsed.prefix() + "{}" + parsed.suffix();
      Map<HttpMethod, Route> routes = table.computeIfAbsent(key, k -> new LinkedHashMap<>());
      Route previous = routes.get(method);
      if (previous != null) {
        throw new IllegalArgumentException(
            "route: " + method + " " + pattern + " (already registered as " + previous.pattern() + ")");
      }
      routes.put(method, new Route(method, parsed, access, handler, blocking));
      return this;
    }

    public AdminRouter build() {
      return new AdminRouter(this);
    }
  }
}
