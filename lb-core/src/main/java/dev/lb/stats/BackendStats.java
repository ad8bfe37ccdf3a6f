package dev.lb.stats;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * One backend's traffic as the status page shows it: requests sent to it, its responses by class, its failures by
 * kind, body bytes each way, when it was last chosen, and the latency of its responses, whose percentiles cover the
 * last minute. Counters are cumulative since the backend was configured.
 *
 * <p>Recording runs on the worker loops, on every request, and allocates nothing: striped adders, one histogram
 * increment and a release store. {@link #tick} runs on the sampler every {@link #TICK_SECONDS} seconds and keeps the
 * histogram snapshots the window is measured against.
 */
public final class BackendStats {
  /** Seconds between histogram snapshots: the latency window moves in steps of this. */
  public static final int TICK_SECONDS = 5;
  /** Length of the latency window, in seconds. */
  public static final int WINDOW_SECONDS = 60;
  private static final int SNAPSHOTS = WINDOW_SECONDS / TICK_SECONDS + 2;

  /** Why an attempt on the backend failed, from the reason lb logs. */
  public enum ErrorKind {
    /** The connection was refused (or could not be opened for another reason before a timeout). */
    CONNECT_REFUSED,
    /** The connection was reset. */
    RESET,
    /** No connection or no response in time. */
    TIMEOUT,
    /** The response could not be parsed. */
    MALFORMED,
    /** The backend closed the connection before its response was complete. */
    CLOSED,
    /** Anything else. */
    OTHER;

    /** The kind in snake case, as the status page names it. */
    public String key() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** The kind of a failure lb described as {@code why} ({@code connection refused}, {@code connect timeout}...). */
    public static ErrorKind of(String why) {
      if (why.startsWith("connection refused")) {
        return CONNECT_REFUSED;
      }
      if (why.contains("timeout") || why.startsWith("no response within")) {
        return TIMEOUT;
      }
      if (why.contains("reset")) {
        return RESET;
      }
      if (why.contains("malformed")) {
        return MALFORMED;
      }
      if (why.startsWith("connection closed")) {
        return CLOSED;
      }
      return OTHER;
    }
  }

  private static final ErrorKind[] KINDS = ErrorKind.values();
  private static final long SELECTED_RESOLUTION_NANOS = 1_000_000;

  private final LongAdder requests = new LongAdder();
  private final LongAdder[] byClass = adders(5);
  private final LongAdder[] errors = adders(KINDS.length);
  private final LongAdder retried = new LongAdder();
  private final LongAdder bytesIn = new LongAdder();
  private final LongAdder bytesOut = new LongAdder();
  /** When a request last went to the backend, in {@link System#nanoTime()} terms; 0 if none did. */
  private final AtomicLong lastSelectedNanos = new AtomicLong();
  private final LatencyHistogram latency = new LatencyHistogram();

  // The window: snapshots of the histogram, the newest at head; guarded by this.
  private final long[][] snapshots = new long[SNAPSHOTS][LatencyHistogram.BUCKETS];
  private final long[] snapshotNanos = new long[SNAPSHOTS];
  private int head = -1;
  private int taken;

  private static LongAdder[] adders(int n) {
    LongAdder[] out = new LongAdder[n];
    for (int i = 0; i < n; i++) {
      out[i] = new LongAdder();
    }
    return out;
  }

  /**
   * A request (an attempt) went to the backend at {@code nowNanos}. The time is stored when it moved by a
   * millisecond or more, so that worker loops choosing one backend at once mostly read the shared field.
   */
  public void selected(long nowNanos) {
    requests.increment();
    long last = lastSelectedNanos.get();
    if (last == 0 || nowNanos - last >= SELECTED_RESOLUTION_NANOS) {
      lastSelectedNanos.lazySet(nowNanos == 0 ? 1 : nowNanos);
    }
  }

  /**
   * The backend's response ended: {@code status} after {@code nanos}, with {@code in} body bytes sent to it and
   * {@code out} body bytes received from it.
   */
  public void responded(int status, long nanos, long in, long out) {
    int c = status / 100 - 1;
    if (c >= 0 && c < 5) {
      byClass[c].increment();
    }
    latency.record(nanos);
    if (in > 0) {
      bytesIn.add(in);
    }
    if (out > 0) {
      bytesOut.add(out);
    }
  }

  /** An attempt on the backend failed for {@code why} (as lb logs it). */
  public void failed(String why) {
    errors[ErrorKind.of(why).ordinal()].increment();
  }

  /** An attempt failed here and the request was retried on another backend. */
  public void retried() {
    retried.increment();
  }

  public long requests() {
    return requests.sum();
  }

  /** Responses whose status is {@code (c + 1)xx}, for {@code c} from 0 (1xx) to 4 (5xx). */
  public long responses(int c) {
    return byClass[c].sum();
  }

  public long errors(ErrorKind kind) {
    return errors[kind.ordinal()].sum();
  }

  public long retries() {
    return retried.sum();
  }

  /** Body bytes sent to the backend. */
  public long bytesIn() {
    return bytesIn.sum();
  }

  /** Body bytes received from the backend. */
  public long bytesOut() {
    return bytesOut.sum();
  }

  /** When a request last went to the backend ({@link System#nanoTime()} terms), or 0 if none did. */
  public long lastSelectedNanos() {
    return lastSelectedNanos.get();
  }

  /** Takes a snapshot of the histogram for the window; on the sampler, every {@link #TICK_SECONDS} seconds. */
  public synchronized void tick(long nowNanos) {
    head = (head + 1) % SNAPSHOTS;
    latency.snapshot(snapshots[head]);
    snapshotNanos[head] = nowNanos;
    taken = Math.min(taken + 1, SNAPSHOTS);
  }

  /**
   * Response latencies over the last minute, as histogram counts: since the newest snapshot at least
   * {@link #WINDOW_SECONDS} old (so over 60 to 65 seconds), or since the backend was configured when it is younger.
   */
  public synchronized long[] lastMinute(long nowNanos) {
    long[] window = new long[LatencyHistogram.BUCKETS];
    latency.snapshot(window);
    long limit = (long) WINDOW_SECONDS * 1_000_000_000L;
    int base = -1;
    for (int k = 0; k < taken; k++) {
      int i = Math.floorMod(head - k, SNAPSHOTS);
      if (nowNanos - snapshotNanos[i] >= limit) {
        base = i;
        break;
      }
    }
    if (base >= 0) {
      long[] then = snapshots[base];
      for (int i = 0; i < window.length; i++) {
        window[i] -= then[i];
      }
    }
    return window;
  }
}
