package dev.lb.health;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.time.Instant;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * One backend's health: a rise/fall state machine. Active probes and passive reports from real traffic feed the same
 * counts. A healthy backend is taken out after {@code unhealthy_threshold} consecutive failures; an unhealthy one
 * comes back after {@code healthy_threshold} consecutive passing probes (traffic does not reach it, so only probes
 * can bring it back). A passing probe, or a good response, resets the failure count of a healthy backend. Backends
 * start healthy, as HAProxy's do, so traffic flows at once.
 *
 * <p>Thread-safe: probes report from the prober's event loop, traffic from the worker loops. Counting happens under
 * this object's lock; the common report, a good response while nothing failed, reads one volatile field and takes no
 * lock. The listener hears of each change once, outside the lock.
 */
public final class BackendHealth {

  /** Whether a backend takes traffic. */
  public enum State {
    HEALTHY,
    UNHEALTHY
  }

  /** Hears of changes of state. Called on the thread that reported the deciding result. */
  @FunctionalInterface
  public interface Listener {
    void onChange(BackendHealth health, State state, String reason);
  }

  private volatile HealthPolicy policy;
  private final Clock clock;
  private final LongSupplier nanoTime;
  private volatile Listener listener = (h, s, r) -> {};

  private volatile State state = State.HEALTHY;
  private volatile int consecutiveFailures;
  private int consecutivePasses;
  private volatile Instant stateSince;
  private volatile String stateReason = "initial state";
  private volatile @Nullable Instant lastCheck;
  private volatile String lastCheckResult = "";
  /** When the backend last came back ({@link System#nanoTime()} scale), or 0 if it never left. */
  private volatile long backSinceNanos;

  public BackendHealth(HealthPolicy policy, Clock clock, LongSupplier nanoTime) {
    this.policy = requireNonNull(policy, "policy");
    this.clock = requireNonNull(clock, "clock");
    this.nanoTime = requireNonNull(nanoTime, "nanoTime");
    this.stateSince = clock.instant();
  }

  /** Health that is never tracked: always healthy. */
  public static BackendHealth untracked() {
    return new BackendHealth(HealthPolicy.UNTRACKED, Clock.systemUTC(), System::nanoTime);
  }

  /** Changes the thresholds (a reload); counts so far are kept. */
  public void policy(HealthPolicy value) {
    this.policy = requireNonNull(value, "policy");
  }

  public void listener(Listener value) {
    this.listener = requireNonNull(value, "listener");
  }

  /** Whether the backend takes traffic: it is healthy, or its health is not tracked (health checks are off). */
  public boolean isHealthy() {
    return state == State.HEALTHY || !policy.tracking();
  }

  public State state() {
    return state;
  }

  public Instant stateSince() {
    return stateSince;
  }

  /** Why the backend is in its state: the result that decided it. */
  public String stateReason() {
    return stateReason;
  }

  public int consecutiveFailures() {
    return consecutiveFailures;
  }

  /** When the last active probe finished, or null before the first. */
  public @Nullable Instant lastCheck() {
    return lastCheck;
  }

  /** What the last probe found, e.g. {@code status 200} or {@code connection refused}; empty before the first. */
  public String lastCheckResult() {
    return lastCheckResult;
  }

  /** When the backend last came back from unhealthy, in {@link System#nanoTime()} terms; 0 if it never left. */
  public long backSinceNanos() {
    return backSinceNanos;
  }

  /** An active probe passed. */
  public void probePassed(String result) {
    recordCheck(result);
    if (!policy.tracking()) {
      return;
    }
    String reason = null;
    synchronized (this) {
      consecutiveFailures = 0;
      if (state == State.UNHEALTHY && ++consecutivePasses >= policy.healthyThreshold()) {
        reason = consecutivePasses + " consecutive passing probes (" + result + ")";
        consecutivePasses = 0;
        backSinceNanos = Math.max(1, nanoTime.getAsLong());
        enter(State.HEALTHY, reason);
      }
    }
    if (reason != null) {
      listener.onChange(this, State.HEALTHY, reason);
    }
  }

  /** An active probe failed. */
  public void probeFailed(String result) {
    recordCheck(result);
    failed("probe", result);
  }

  /** Real traffic failed to reach the backend: refused, reset, or timed out. */
  public void trafficFailed(String result) {
    failed("request", result);
  }

  /** Real traffic got a good response: resets the failure count of a healthy backend. */
  public void trafficSucceeded() {
    if (consecutiveFailures == 0 || !policy.tracking()) {
      return;
    }
    synchronized (this) {
      if (state == State.HEALTHY) {
        consecutiveFailures = 0;
      }
    }
  }

  private void failed(String source, String result) {
    if (!policy.tracking()) {
      return;
    }
    String reason = null;
    synchronized (this) {
      consecutivePasses = 0;
      int failures = consecutiveFailures + 1;
      consecutiveFailures = failures;
      if (state == State.HEALTHY && failures >= policy.unhealthyThreshold()) {
        reason = failures + " consecutive failures, the last a " + source + ": " + result;
        enter(State.UNHEALTHY, reason);
      }
    }
    if (reason != null) {
      listener.onChange(this, State.UNHEALTHY, reason);
    }
  }

  private void enter(State next, String reason) {
    state = next;
    stateSince = clock.instant();
    stateReason = reason;
  }

  private void recordCheck(String result) {
    lastCheck = clock.instant();
    lastCheckResult = result;
  }

  @Override
  public String toString() {
    return state + " since " + stateSince + " (" + stateReason + ")";
  }
}
