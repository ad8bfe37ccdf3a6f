package dev.lb.proxy;

import static java.util.Objects.requireNonNull;

import dev.lb.backend.BackendGroup;
import dev.lb.balance.Picker;
import dev.lb.log.AccessLog;

/**
 * What every client connection's handlers share: settings, the backends and balancer, the access log, and whether the
 * server is draining. Parts that change at runtime are immutable values swapped whole, so the hot path reads each
 * with one volatile load and no lock.
 */
public final class ProxyContext {
  private volatile ProxySettings settings;
  private volatile Routing routing;
  private volatile boolean draining;
  private final AccessLog accessLog;

  /** A snapshot of the backends and the picker made for it, swapped together. */
  public record Routing(BackendGroup group, Picker picker) {
    public Routing {
      requireNonNull(group, "group");
      requireNonNull(picker, "picker");
    }
  }

  public ProxyContext(ProxySettings settings, Routing routing, AccessLog accessLog) {
    this.settings = requireNonNull(settings, "settings");
    this.routing = requireNonNull(routing, "routing");
    this.accessLog = requireNonNull(accessLog, "accessLog");
  }

  public ProxySettings settings() {
    return settings;
  }

  public void settings(ProxySettings value) {
    settings = requireNonNull(value, "settings");
  }

  public Routing routing() {
    return routing;
  }

  public void routing(Routing value) {
    routing = requireNonNull(value, "routing");
  }

  public AccessLog accessLog() {
    return accessLog;
  }

  /** Whether the server is draining: keep-alive ends after the current response. */
  public boolean draining() {
    return draining;
  }

  public void startDraining() {
    draining = true;
  }
}
