package dev.lb.health;

import static java.util.Objects.requireNonNull;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendGroup;
import dev.lb.backend.BackendHealth;
import dev.lb.balance.LoadBalancer;
import dev.lb.balance.Routing;
import dev.lb.balance.SlowStart;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jspecify.annotations.Nullable;

/**
 * Publishes the routing snapshot: the backends that may take traffic, and the balancer's picker for them (with slow
 * start when configured). Republishes on every change of a backend's state, logging the change once with the signal
 * that moved it and its reason. Publishing is serialised, and each publish reads every backend's current state, so
 * the last one always reflects the latest states whatever thread reported them.
 *
 * <p>It also decides outlier ejections across the backends: never more than {@code max_ejection_percent} of them
 * ejected at once (so a fault shared by all cannot empty the pool), each ejection's end scheduled on the timer.
 */
public final class HealthMonitor implements BackendHealth.Ejections {
  private static final Logger log = LogManager.getLogger(HealthMonitor.class);

  private volatile List<Backend> backends;
  private volatile LoadBalancer balancer;
  private volatile long slowStartNanos;
  private @Nullable Routing published;
  private volatile Sink sink = routing -> {};
  private final ScheduledExecutorService timer;

  /** Receives each new snapshot. */
  @FunctionalInterface
  public interface Sink {
    void publish(Routing routing);
  }

  /** A monitor whose ejections end on a shared daemon timer thread (for tests and embedded use). */
  public HealthMonitor(List<Backend> backends, LoadBalancer balancer, long slowStartNanos) {
    this(backends, balancer, slowStartNanos, DefaultTimer.INSTANCE);
  }

  /** @param timer where ejections end: the health event loop in the server */
  public HealthMonitor(
      List<Backend> backends, LoadBalancer balancer, long slowStartNanos, ScheduledExecutorService timer) {
    this.backends = List.copyOf(backends);
    this.balancer = requireNonNull(balancer, "balancer");
    this.slowStartNanos = slowStartNanos;
    this.timer = requireNonNull(timer, "timer");
    listen(this.backends);
  }

  /** One daemon thread for monitors built without a timer. */
  private static final class DefaultTimer {
    static final ScheduledExecutorService INSTANCE = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "lb-health-timer");
      t.setDaemon(true);
      return t;
    });
  }

  private void listen(List<Backend> list) {
    for (Backend b : list) {
      b.health().listener((health, change, reason) -> onChange(b, change, reason));
      b.health().ejections(this);
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
        b.health().listener((health, change, reason) -> {});
        b.health().ejections(null);
      }
    }
    listen(backends);
    for (Backend b : backends) {
      if (!b.health().policy().passive().enabled()) {
        b.health().endEjection("outlier detection turned off");
      }
    }
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
  public synchronized Routing current() {
    Routing r = published;
    return r != null ? r : build();
  }

  private void onChange(Backend backend, BackendHealth.Change change, String reason) {
    BackendHealth h = backend.health();
    switch (change) {
      case DOWN -> log.warn("backend {} is DOWN by the {}: {}", backend.url(), change.signal(), reason);
      case EJECTED -> log.warn("backend {} is EJECTED by the {}: {}", backend.url(), change.signal(), reason);
      case DRAIN, MAINT -> log.warn("backend {} is {} by the {}: {}", backend.url(), change, change.signal(), reason);
      case UP, RETURNED, READY -> log.info("backend {} is {} by the {}: {}{}", backend.url(),
          change == BackendHealth.Change.UP ? "UP" : change == BackendHealth.Change.READY ? "READY" : "BACK",
          change.signal(), reason, stillOut(h, change));
    }
    publish();
  }

  /**
   * What still keeps a backend that came back by {@code change} out (the other signal), or else the slow start it
   * comes back through; empty when neither.
   */
  private String stillOut(BackendHealth h, BackendHealth.Change change) {
    String still = !h.activeUp()
        ? change == BackendHealth.Change.READY ? "; DOWN until " + h.policy().healthyThreshold() + " passing probes"
            : "; still DOWN by the active health check"
        : h.ejected() ? "; still EJECTED until " + h.ejectedUntil() : "";
    return still.isEmpty() && slowStartNanos > 0 ? "; slow start over " + slowStartNanos / 1_000_000 + " ms" : still;
  }

  @Override
  public void requestEjection(BackendHealth health, String reason) {
    Backend backend = null;
    long length;
    synchronized (this) {
      int ejected = 0;
      for (Backend b : backends) {
        if (b.health() == health) {
          backend = b;
        }
        if (b.health().ejected()) {
          ejected++;
        }
      }
      if (backend == null) {
        return;
      }
      int allowed = health.policy().passive().maxEjected(backends.size());
      if (ejected >= allowed) {
        if (health.ejectionRefused()) {
          log.warn("backend {} stays in despite the {}: {}; {} of {} backends are ejected already "
              + "(max_ejection_percent {})", backend.url(), BackendHealth.Change.EJECTED.signal(), reason, ejected,
              backends.size(), health.policy().passive().maxEjectionPercent());
        }
        return;
      }
      length = health.eject(reason);
    }
    if (length > 0) {
      backend.meters().ejected();
      try {
        Runnable end = () -> health.endEjection("ejection time over");
        timer.schedule(end, length, TimeUnit.NANOSECONDS);
      } catch (java.util.concurrent.RejectedExecutionException stopping) {
        // The server is stopping: nothing will route to the backend again.
      }
    }
  }

  /** Whether the last snapshot published had no backend to send traffic to (guarded by this). */
  private boolean noneAvailable;

  /** Builds and publishes a snapshot of the current states. */
  public synchronized void publish() {
    Routing routing = build();
    published = routing;
    sink.publish(routing);
    // Said once when the last backend goes, and once when one comes back, however many changes come between.
    // Not said for a monitor that never had a backend yet: the upstream is built empty and then given its members.
    boolean none = routing.group().available().length == 0;
    if (none && !noneAvailable && (everAvailable || !routing.group().all().isEmpty())) {
      log.warn("no backend can take traffic: requests get 503 until one comes back");
      noneAvailable = true;
    } else if (!none && noneAvailable) {
      log.info("traffic flows again: {} of {} backends can take it", routing.group().available().length,
          routing.group().all().size());
      noneAvailable = false;
    }
    everAvailable |= !none;
  }

  /** Whether a snapshot ever had a backend to send traffic to (guarded by this). */
  private boolean everAvailable;

  private Routing build() {
    BackendGroup group = BackendGroup.of(backends);
    return new Routing(group, SlowStart.wrap(balancer.picker(group), slowStartNanos));
  }
}
