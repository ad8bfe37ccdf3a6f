package dev.lb.health;

import static java.util.Objects.requireNonNull;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendGroup;
import dev.lb.balance.LoadBalancer;
import dev.lb.balance.SlowStart;
import dev.lb.proxy.ProxyContext;
import java.util.List;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jspecify.annotations.Nullable;

/**
 * Publishes the routing snapshot: the backends that may take traffic, and the balancer's picker for them (with slow
 * start when configured). Republishes on every change of a backend's state, logging the change once with its
 * reason. Publishing is serialised, and each publish reads every backend's current state, so the last one always
 * reflects the latest states whatever thread reported them.
 */
public final class HealthMonitor {
  private static final Logger log = LogManager.getLogger(HealthMonitor.class);

  private volatile List<Backend> backends;
  private volatile LoadBalancer balancer;
  private volatile long slowStartNanos;
  private ProxyContext.@Nullable Routing published;
  private volatile Sink sink = routing -> {};

  /** Receives each new snapshot. */
  @FunctionalInterface
  public interface Sink {
    void publish(ProxyContext.Routing routing);
  }

  public HealthMonitor(List<Backend> backends, LoadBalancer balancer, long slowStartNanos) {
    this.backends = List.copyOf(backends);
    this.balancer = requireNonNull(balancer, "balancer");
    this.slowStartNanos = slowStartNanos;
    listen(this.backends);
  }

  private void listen(List<Backend> list) {
    for (Backend b : list) {
      b.health().listener((health, state, reason) -> onChange(b, state, reason));
    }
  }

  /**
   * Changes the backends, the balancer or slow start (a reload), and publishes a snapshot for them. Backends that
   * stay keep their health; removed ones are no longer listened to.
   */
  public synchronized void update(List<Backend> next, LoadBalancer nextBalancer, long nextSlowStartNanos) {
    List<Backend> previous = backends;
    backends = List.copyOf(next);
    balancer = requireNonNull(nextBalancer, "balancer");
    slowStartNanos = nextSlowStartNanos;
    for (Backend b : previous) {
      if (!backends.contains(b)) {
        b.health().listener((health, state, reason) -> {});
      }
    }
    listen(backends);
    publish();
  }

  public LoadBalancer balancer() {
    return balancer;
  }

  /** Where snapshots go from now on; the current one is sent at once. */
  public void sink(Sink value) {
    this.sink = requireNonNull(value, "sink");
    publish();
  }

  public List<Backend> backends() {
    return backends;
  }

  /** The snapshot for the backends' current states. */
  public synchronized ProxyContext.Routing current() {
    ProxyContext.Routing r = published;
    return r != null ? r : build();
  }

  private void onChange(Backend backend, BackendHealth.State state, String reason) {
    if (state == BackendHealth.State.UNHEALTHY) {
      log.warn("backend {} is DOWN: {}", backend.url(), reason);
    } else {
      log.info("backend {} is UP: {}{}", backend.url(), reason,
          slowStartNanos > 0 ? "; slow start over " + slowStartNanos / 1_000_000 + " ms" : "");
    }
    publish();
  }

  /** Builds and publishes a snapshot of the current states. */
  public synchronized void publish() {
    ProxyContext.Routing routing = build();
    published = routing;
    sink.publish(routing);
    if (routing.group().available().length == 0) {
      log.warn("no backend can take traffic: requests get 503 until one comes back");
    }
  }

  private ProxyContext.Routing build() {
    BackendGroup group = BackendGroup.of(backends);
    return new ProxyContext.Routing(group, SlowStart.wrap(balancer.picker(group), slowStartNanos));
  }
}
