package dev.lb.upstream;

import static java.util.Objects.requireNonNull;

import dev.lb.backend.BackendMeters;
import dev.lb.balance.Routing;
import dev.lb.config.RateLimitConfig.Limit;
import org.jspecify.annotations.Nullable;

/**
 * What the request path sees of one upstream: its name, the current snapshot of its backends and balancer, the
 * meters of the answers lb makes itself for requests routed to it, and its own default rate limit. The snapshot is
 * swapped whole when health or membership changes; reading it is one volatile load.
 */
public final class Upstream {
  private final String name;
  private volatile Routing routing;
  private final BackendMeters none;
  private volatile @Nullable Limit rateLimit;

  public Upstream(String name, Routing routing, BackendMeters none) {
    this.name = requireNonNull(name, "name");
    this.routing = requireNonNull(routing, "routing");
    this.none = requireNonNull(none, "none");
  }

  public String name() {
    return name;
  }

  /** The backends that may take traffic now and the picker for them. */
  public Routing routing() {
    return routing;
  }

  /** Publishes a new snapshot (from the upstream's health monitor). */
  public void routing(Routing value) {
    routing = requireNonNull(value, "routing");
  }

  /** The meters of lb's own answers (503, 429, 400...) to requests routed here. */
  public BackendMeters none() {
    return none;
  }

  /** The limit of clients without a limit of their own on this upstream; null: the top-level default. */
  public @Nullable Limit rateLimit() {
    return rateLimit;
  }

  public void rateLimit(@Nullable Limit value) {
    rateLimit = value;
  }

  @Override
  public String toString() {
    return "upstream " + name;
  }
}
