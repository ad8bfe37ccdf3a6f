package dev.lb.upstream;

import static java.util.Objects.requireNonNull;

import dev.lb.route.Route;
import dev.lb.route.RouteTable;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Where requests go: the route table over the upstreams, swapped whole on a reload. Without routes every request goes
 * to the one default upstream and no lookup is made.
 */
public final class Routes {
  private final @Nullable RouteTable<Upstream> table;
  private final @Nullable Route<Upstream> only;
  private final List<Upstream> upstreams;
  private final boolean upstreamLimits;

  private Routes(@Nullable RouteTable<Upstream> table, @Nullable Route<Upstream> only, List<Upstream> upstreams) {
    this.table = table;
    this.only = only;
    this.upstreams = List.copyOf(upstreams);
    this.upstreamLimits = upstreams.stream().anyMatch(u -> u.rateLimit() != null);
  }

  /** Whether an upstream has a default rate limit of its own (else a request's route does not matter to it). */
  public boolean upstreamLimits() {
    return upstreamLimits;
  }

  /** No request goes anywhere (404): before the upstreams are made. */
  public static Routes none() {
    return new Routes(RouteTable.build(List.of(), name -> null, null), null, List.of());
  }

  /** Every request to {@code upstream}. */
  public static Routes single(Upstream upstream) {
    return new Routes(null, new Route<>(-1, requireNonNull(upstream, "upstream"), null, false), List.of(upstream));
  }

  /** Requests by {@code table}; {@code upstreams} are every upstream it may name (for the admin API). */
  public static Routes of(RouteTable<Upstream> table, List<Upstream> upstreams) {
    return new Routes(table, null, upstreams);
  }

  /** Whether the request's host and path decide its upstream (else every request goes to one). */
  public boolean routed() {
    return table != null;
  }

  /**
   * The route of a request; null when none matches and there is no default upstream (lb answers 404).
   *
   * @param host the {@code Host} field, null when the request has none
   * @param target the request target as received
   */
  public @Nullable Route<Upstream> lookup(@Nullable CharSequence host, CharSequence target) {
    RouteTable<Upstream> t = table;
    return t == null ? only : t.lookup(host, target);
  }

  /** The route of every request when there are no routes; null otherwise. */
  public @Nullable Route<Upstream> only() {
    return only;
  }

  /** The upstreams, default first. */
  public List<Upstream> upstreams() {
    return upstreams;
  }
}
