package dev.lb.config;

import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/**
 * One rule of {@code routes}: requests whose host and path match go to {@code upstream}. Routes are tried in order;
 * the first that matches wins.
 *
 * @param host an exact host name or {@code *.} and a domain (any name under it), lower case; null: any host
 * @param pathPrefix a path prefix matched on segment boundaries, starting with {@code /}; null: any path
 * @param upstream the name of the upstream
 * @param stripPrefix whether the prefix is taken off the path sent to the backend
 */
public record RouteConfig(@Nullable String host, @Nullable String pathPrefix, String upstream, boolean stripPrefix) {
  public RouteConfig {
    requireNonNull(upstream, "upstream");
  }
}
