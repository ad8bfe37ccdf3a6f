package dev.lb.backend;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * One backend's health, from two signals kept apart, as in Envoy and HAProxy:
 *
 * <ul>
 *   <li><b>Active</b>: a rise/fall state machine fed only by probes. {@code unhealthy_threshold} consecutive failing
 *       probes mark the backend down, {@code healthy_threshold} consecutive passing ones bring it back. Traffic never
 *       touches it, so a backend that fails its health check to ask for removal leaves rotation whatever its traffic
 *       does.
 *   <li><b>Passive</b>: outlier detection from real traffic. Connect failures, resets, timeouts, malformed responses
 *       (and 5xx answers when configured) count as errors; any other response resets the count. At
 *       {@code consecutive_errors} the backend asks its {@link Ejections} to be ejected, which refuses when too many
 *       backends are ejected already; an ejection lasts {@code base_ejection_time} times the number of recent
 *       ejections (at most {@code max_ejection_time}), and its end is scheduled by the {@link Ejections}.
 * </ul>
 *
 * <p>Over both, the operator's word ({@link Admin}, HAProxy's server states): a backend set to {@code DRAIN} or
 * {@code MAINT} through the admin API takes no new requests whatever the signals say, and one in {@code MAINT} is not
 * probed.
 *
 * <p>The backend takes traffic while both signals and the operator allow it. Backends start up and not ejected, as HAProxy's do, so
 * traffic flows at once. Returning from either signal restarts slow start ({@link #backSinceNanos()}).
 *
 * <p>Thread-safe: probes report from the health event loop, traffic from the worker loops. Counting happens under
 * this object's lock; the common report, a good response while nothing failed, reads one volatile field and takes no
 * lock. The listener hears of each change once, outside the lock.
 */
public final class BackendHealth {

  /** What the active checks say. */
  public enum State {
    HEALTHY,
    UNHEALTHY
  }

  /**
   * What the operator set through the admin API. {@code READY}: the signals decide. {@code DRAIN}: no new requests;
   * those under way finish and the probes go on. {@code MAINT}: no new requests, and no probes; back to {@code READY},
   * a tracked backend comes back through {@code healthy_threshold} passing probes, and any through slow start.
   */
  public enum Admin {
    READY,
    DRAIN,
    MAINT
  }

  /** A change of one of the two signals, or of the operator's word. */
  public enum Change {
    /** Active checks marked the backend down. */
    DOWN("active health check"),
    /** Active checks brought it back. */
    UP("active health check"),
    /** Outlier detection ejected it. */
    EJECTED("passive health check (outlier detection)"),
    /** Its ejection ended. */
    RETURNED("passive health check (outlier detection)"),
    /** The operator set it to drain. */
    DRAIN("admin API"),
    /** The operator put it in maintenance. */
    MAINT("admin API"),
    /** The operator set it ready again. */
    READY("admin API");

    private final String signal;

    Change(String signal) {
      this.signal = signal;
    }

    /** Which signal moved the backend, for log lines. */
    public String signal() {
      return signal;
    }
  }

  /** Hears of changes. Called on the thread that reported the deciding result, outside any lock of this object. */
  @FunctionalInterface
  public interface Listener {
    void onChange(BackendHealth health, Change change, String reason);
  }

  /** Decides ejections across the backends (the share that may be ejected at once) and schedules their ends. */
  @FunctionalInterface
  public interface Ejections {
    /**
     * The backend reached its error threshold: eject it with {@link #eject(String)} unless too many are ejected, in
     * which case {@link #ejectionRefused()}.
     */
    void requestEjection(BackendHealth health, String reason);
  }

  private static final Ejections NO_EJECTIONS = (health, reason) -> health.ejectionRefused();

  private volatile HealthPolicy policy;
  private final Clock clock;
  private final LongSupplier nanoTime;
  private volatile Listener listener = (h, c, r) -> {};
  private volatile Ejections ejections = NO_EJECTIONS;

  // Active.
  private volatile State state = State.HEALTHY;
  private volatile int consecutiveFailures;
  private int consecutivePasses;
  /** Set by {@link #awaitFirstProbe()} until the first probe's result (guarded by this). */
  private boolean firstProbePending;
  private volatile Instant stateSince;
  private volatile String stateReason = "initial state";
  private volatile @Nullable Instant lastCheck;
  private volatile String lastCheckResult = "";
  private volatile long lastCheckNanos = -1;
  private volatile boolean lastCheckPassed;
  private final java.util.concurrent.atomic.AtomicLong checksFailed = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong changes = new java.util.concurrent.atomic.AtomicLong();
  private volatile Instant lastChange;

  // Passive.
  private volatile int consecutiveErrors;
  private volatile boolean ejected;
  private volatile @Nullable Instant ejectedUntil;
  private volatile int ejectionCount;
  private volatile String lastError = "";
  /** Recent ejections: the multiplier of the next one's length, decaying while the backend stays in. */
  private int multiplier;
  private long lastReturnNanos;
  private boolean refusalReported;

  /** When the backend last came back ({@link System#nanoTime()} scale), or 0 if it never left. */
  private volatile long backSinceNanos;

  // The operator.
  private volatile Admin admin = Admin.READY;
  private volatile Instant adminSince;

  public BackendHealth(HealthPolicy policy, Clock clock, LongSupplier nanoTime) {
    this.policy = requireNonNull(policy, "policy");
    this.clock = requireNonNull(clock, "clock");
    this.nanoTime = requireNonNull(nanoTime, "nanoTime");
    this.stateSince = clock.instant();
    this.adminSince = stateSince;
    this.lastChange = stateSince;
  }

  /** Health that is never tracked: always healthy. */
  public static BackendHealth untracked() {
    return new BackendHealth(HealthPolicy.UNTRACKED, Clock.systemUTC(), System::nanoTime);
  }

  /**
   * A backend that joins a running upstream (an address found in DNS) starts out of rotation when its health is
   * tracked: its first passing probe brings it in (a failing one leaves it to the usual {@code healthy_threshold}),
   * as Envoy's {@code ignore_new_hosts_until_first_hc} does. Call before the backend is published.
   */
  public void awaitFirstProbe() {
    if (!policy.tracking()) {
      return;
    }
    synchronized (this) {
      firstProbePending = true;
      state = State.UNHEALTHY;
      stateSince = clock.instant();
      stateReason = "new address, waiting for its first health check";
    }
  }

  /** Changes the thresholds (a reload); counts so far are kept. */
  public void policy(HealthPolicy value) {
    this.policy = requireNonNull(value, "policy");
  }

  public HealthPolicy policy() {
    return policy;
  }

  public void listener(Listener value) {
    this.listener = requireNonNull(value, "listener");
  }

  /** Who decides this backend's ejections; by default none is allowed. */
  public void ejections(@Nullable Ejections value) {
    this.ejections = value == null ? NO_EJECTIONS : value;
  }

  /**
   * Whether the backend takes new requests: the operator has it {@code READY}, the active checks say up (or are off)
   * and it is not ejected.
   */
  public boolean isHealthy() {
    return admin == Admin.READY && activeUp() && !ejected;
  }

  /** What the operator set; {@code READY} unless the admin API said otherwise since the backend was configured. */
  public Admin admin() {
    return admin;
  }

  /** Since when the operator's word is what it is (the backend's creation when never set). */
  public Instant adminSince() {
    return adminSince;
  }

  /**
   * Sets the operator's word. Leaving {@code MAINT} for {@code READY}, a tracked backend starts DOWN and needs
   * {@code healthy_threshold} passing probes (its probes stopped meanwhile); leaving {@code DRAIN} or {@code MAINT}
   * for {@code READY} restarts slow start.
   *
   * @return whether it changed anything (setting the current state again does not)
   */
  public boolean admin(Admin next, String reason) {
    requireNonNull(next, "next");
    Change change;
    synchronized (this) {
      Admin before = admin;
      if (before == next) {
        return false;
      }
      if (next == Admin.READY) {
        if (before == Admin.MAINT && policy.tracking()) {
          consecutivePasses = 0;
          consecutiveFailures = 0;
          enter(State.UNHEALTHY, "out of maintenance: back after " + policy.healthyThreshold()
              + " passing probes");
        }
        backSinceNanos = Math.max(1, nanoTime.getAsLong());
      }
      admin = next;
      adminSince = clock.instant();
      change = next == Admin.READY ? Change.READY : next == Admin.DRAIN ? Change.DRAIN : Change.MAINT;
    }
    changed(change, reason);
    return true;
  }

  /** Counts the change and tells the listener; outside the lock. */
  private void changed(Change change, String reason) {
    changes.incrementAndGet();
    lastChange = clock.instant();
    listener.onChange(this, change, reason);
  }

  /** How many times a signal or the operator moved the backend since it was configured. */
  public long stateChanges() {
    return changes.get();
  }

  /** When a signal or the operator last moved the backend (its creation when none has). */
  public Instant lastChange() {
    return lastChange;
  }

  /** Probes that failed since the backend was configured. */
  public long checksFailed() {
    return checksFailed.get();
  }

  /** How long the last probe took, in nanoseconds; -1 before the first or when not measured. */
  public long lastCheckNanos() {
    return lastCheckNanos;
  }

  /** Whether the last probe passed; false before the first. */
  public boolean lastCheckPassed() {
    return lastCheckPassed;
  }

  /** Whether the active checks say up, or are off. */
  public boolean activeUp() {
    return state == State.HEALTHY || !policy.tracking();
  }

  /** What the active checks say. */
  public State state() {
    return state;
  }

  /** Since when the active checks say what they say. */
  public Instant stateSince() {
    return stateSince;
  }

  /** Why the active checks say what they say: the result that decided it. */
  public String stateReason() {
    return stateReason;
  }

  /** Consecutive failing probes. */
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

  /** Consecutive errors seen in traffic since the last good response. */
  public int consecutiveErrors() {
    return consecutiveErrors;
  }

  /** The last error seen in traffic, or empty. */
  public String lastError() {
    return lastError;
  }

  /** Whether outlier detection has the backend out of rotation. */
  public boolean ejected() {
    return ejected;
  }

  /** When the current ejection ends, or null when not ejected. */
  public @Nullable Instant ejectedUntil() {
    return ejectedUntil;
  }

  /** How many times the backend was ejected since it was configured. */
  public int ejections() {
    return ejectionCount;
  }

  /** When the backend last came back from unhealthy or ejected, in {@link System#nanoTime()} terms; 0 if never. */
  public long backSinceNanos() {
    return backSinceNanos;
  }

  // ---------------------------------------------------------------- active

  /** An active probe passed. */
  public void probePassed(String result) {
    probePassed(result, -1);
  }

  /** An active probe passed after {@code nanos} (-1 when not measured). */
  public void probePassed(String result, long nanos) {
    recordCheck(result, nanos, true);
    if (!policy.tracking()) {
      return;
    }
    String reason = null;
    synchronized (this) {
      consecutiveFailures = 0;
      if (state == State.UNHEALTHY && firstProbePending) {
        firstProbePending = false;
        reason = "its first health check passed (" + result + ")";
        consecutivePasses = 0;
        backSinceNanos = Math.max(1, nanoTime.getAsLong());
        enter(State.HEALTHY, reason);
      } else if (state == State.UNHEALTHY && ++consecutivePasses >= policy.healthyThreshold()) {
        reason = consecutivePasses + " consecutive passing probes (" + result + ")";
        consecutivePasses = 0;
        if (!ejected) {
          backSinceNanos = Math.max(1, nanoTime.getAsLong());
        }
        enter(State.HEALTHY, reason);
      }
    }
    if (reason != null) {
      // A backend the probes had marked down and bring back is sound again (it restarted, say): an ejection from
      // the same outage ends with it, as Envoy's successful_active_health_check_uneject_host does. A backend whose
      // probes never failed keeps its ejection: its traffic failed while its health path passed.
      endEjection("the active health check brought it back");
      changed(Change.UP, reason);
    }
  }

  /** An active probe failed. */
  public void probeFailed(String result) {
    probeFailed(result, -1);
  }

  /** An active probe failed after {@code nanos} (-1 when not measured). */
  public void probeFailed(String result, long nanos) {
    recordCheck(result, nanos, false);
    if (!policy.tracking()) {
      return;
    }
    String reason = null;
    synchronized (this) {
      consecutivePasses = 0;
      firstProbePending = false;
      int failures = consecutiveFailures + 1;
      consecutiveFailures = failures;
      if (state == State.HEALTHY && failures >= policy.unhealthyThreshold()) {
        reason = failures + " consecutive failing probes, the last: " + result;
        enter(State.UNHEALTHY, reason);
      }
    }
    if (reason != null) {
      changed(Change.DOWN, reason);
    }
  }

  private void enter(State next, String reason) {
    state = next;
    stateSince = clock.instant();
    stateReason = reason;
  }

  private void recordCheck(String result, long nanos, boolean passed) {
    if (!passed) {
      checksFailed.incrementAndGet();
    }
    lastCheckNanos = nanos;
    lastCheckPassed = passed;
    lastCheckResult = result;
    lastCheck = clock.instant();
  }

  // ---------------------------------------------------------------- passive

  /** Real traffic failed on the backend: refused, reset, timed out, or a malformed response. */
  public void trafficFailed(String result) {
    HealthPolicy.Passive passive = policy.passive();
    if (!passive.enabled()) {
      return;
    }
    int errors;
    synchronized (this) {
      if (ejected) {
        return;
      }
      lastError = result;
      errors = consecutiveErrors + 1;
      consecutiveErrors = errors;
    }
    if (errors >= passive.consecutiveErrors()) {
      ejections.requestEjection(this, errors + " consecutive errors, the last: " + result);
    }
  }

  /** Real traffic got a response head with this status: an error when it is a 5xx counted as one, else good. */
  public void response(int status) {
    if (status >= 500 && policy.passive().count5xx()) {
      trafficFailed("status " + status);
    } else {
      trafficSucceeded();
    }
  }

  /** Real traffic got a good response: resets the passive error count (never the active checks' counts). */
  public void trafficSucceeded() {
    if (consecutiveErrors == 0) {
      return;
    }
    synchronized (this) {
      consecutiveErrors = 0;
    }
  }

  /**
   * Ejects the backend, for {@link Ejections} only: the length is {@code base_ejection_time} times its recent
   * ejections (one fewer for each {@code base_ejection_time} it stayed in since the last), at most
   * {@code max_ejection_time}.
   *
   * @return the ejection's length in nanoseconds, or 0 when it was already ejected
   */
  public long eject(String reason) {
    HealthPolicy.Passive passive = policy.passive();
    long length;
    synchronized (this) {
      if (ejected) {
        return 0;
      }
      long now = nanoTime.getAsLong();
      if (lastReturnNanos != 0 && multiplier > 0) {
        long stayed = (now - lastReturnNanos) / Math.max(1, passive.baseEjectionNanos());
        multiplier = (int) Math.max(0, multiplier - stayed);
      }
      multiplier++;
      length = passive.baseEjectionNanos() > passive.maxEjectionNanos() / multiplier
          ? passive.maxEjectionNanos() : passive.baseEjectionNanos() * multiplier;
      ejected = true;
      ejectionCount++;
      consecutiveErrors = 0;
      refusalReported = false;
      ejectedUntil = clock.instant().plus(Duration.ofNanos(length));
    }
    changed(Change.EJECTED, reason + "; ejected for " + length / 1_000_000 + " ms (ejection "
        + ejectionCount + ")");
    return length;
  }

  /**
   * Ends an ejection, for {@link Ejections} only, when its time is up (or outlier detection was turned off).
   *
   * @return whether it was ejected
   */
  public boolean endEjection(String reason) {
    synchronized (this) {
      if (!ejected) {
        return false;
      }
      ejected = false;
      ejectedUntil = null;
      consecutiveErrors = 0;
      long now = Math.max(1, nanoTime.getAsLong());
      lastReturnNanos = now;
      if (activeUp()) {
        backSinceNanos = now;
      }
    }
    changed(Change.RETURNED, reason);
    return true;
  }

  /**
   * The error threshold was reached but the backend stays in (too many ejected already): counting starts over.
   *
   * @return whether this is the first refusal since the last ejection (worth a log line)
   */
  public boolean ejectionRefused() {
    synchronized (this) {
      consecutiveErrors = 0;
      boolean first = !refusalReported;
      refusalReported = true;
      return first;
    }
  }

  @Override
  public String toString() {
    return (ejected ? "EJECTED until " + ejectedUntil + ", active " : "") + state + " since " + stateSince + " ("
        + stateReason + ")";
  }
}
