package dev.lb.backend;

import java.util.ArrayList;
import java.util.List;

/**
 * An immutable snapshot of the backends: all of them in configuration order, and those that may take traffic now
 * (healthy, with a positive weight).
 * A change (health, weights, membership) publishes a new snapshot; the hot path reads one without locks.
 */
public final class BackendGroup {
  private final List<Backend> all;
  private final Backend[] available;

  private BackendGroup(List<Backend> all, Backend[] available) {
    this.all = all;
    this.available = available;
  }

  /** A snapshot in which every healthy backend with a positive weight takes traffic. */
  public static BackendGroup of(List<Backend> backends) {
    List<Backend> all = List.copyOf(backends);
    List<Backend> available = new ArrayList<>(all.size());
    for (Backend b : all) {
      if (b.weight() > 0 && b.health().isHealthy()) {
        available.add(b);
      }
    }
    return new BackendGroup(all, available.toArray(new Backend[0]));
  }

  /** Every backend, in configuration order. */
  public List<Backend> all() {
    return all;
  }

  /**
   * The backends that may take traffic, in configuration order. The array is shared: callers must not modify it.
   */
  public Backend[] available() {
    return available;
  }

  @Override
  public String toString() {
    return "BackendGroup" + all;
  }
}
