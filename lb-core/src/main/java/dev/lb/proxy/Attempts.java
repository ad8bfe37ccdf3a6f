package dev.lb.proxy;

import dev.lb.backend.Backend;
import dev.lb.metrics.ProxyMetrics;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * The retry bookkeeping of one request: the backends it tried (the balancer skips them), the backends found at their
 * {@code max_connections} by the dispatch under way, its count in the retry budget, and whether a failed attempt may
 * be followed by another. One instance per client connection, reset for each request; arrays are allocated only when
 * a request needs them (a retry, a backend at its cap).
 */
final class Attempts {
  private static final int NOT_COUNTED = 0;
  private static final int AS_REQUEST = 1;
  private static final int AS_RETRY = 2;

  /** The first backend tried; later ones in {@link #more}. */
  private @Nullable Backend first;
  private Backend @Nullable [] more;
  private int count;
  private Backend @Nullable [] full;
  private int fullCount;
  /** How the request is counted by the retry budget: not, as a request, or as a retry. */
  private int budgeted = NOT_COUNTED;

  /** A new request: nothing tried yet. */
  void reset() {
    count = 0;
    fullCount = 0;
  }

  /** The request counts in {@code budget} as in flight until {@link #letGo}. */
  void countIn(RetryBudget budget) {
    budget.requestStarted();
    budgeted = AS_REQUEST;
  }

  /** The request ended: it no longer counts in {@code budget}; the dispatch's list of full backends is cleared. */
  void letGo(RetryBudget budget) {
    if (budgeted != NOT_COUNTED) {
      budget.requestEnded(budgeted == AS_RETRY);
      budgeted = NOT_COUNTED;
    }
    fullCount = 0;
  }

  /** How many attempts were made (each sent, or tried to send, the request to a backend). */
  int count() {
    return count;
  }

  /** The backend of the latest attempt, or null before the first. */
  @Nullable Backend last() {
    if (count == 0) {
      return null;
    }
    return count == 1 ? first : more[count - 2];
  }

  /** Whether the balancer should skip {@code candidate}: tried already, or at its cap in this dispatch. */
  boolean tried(Backend candidate) {
    Backend[] f = full;
    if (f != null) {
      for (int i = 0; i < fullCount; i++) {
        if (f[i] == candidate) {
          return true;
        }
      }
    }
    if (count == 0) {
      return false;
    }
    if (first == candidate) {
      return true;
    }
    Backend[] m = more;
    if (m != null) {
      for (int i = 0; i < count - 1; i++) {
        if (m[i] == candidate) {
          return true;
        }
      }
    }
    return false;
  }

  /** An attempt goes to {@code target}; the dispatch is over. */
  void record(Backend target) {
    fullCount = 0;
    if (count == 0) {
      first = target;
    } else {
      Backend[] m = more;
      if (m == null) {
        m = more = new Backend[4];
      } else if (count - 1 == m.length) {
        m = more = Arrays.copyOf(m, m.length * 2);
      }
      m[count - 1] = target;
    }
    count++;
  }

  /** The dispatch found {@code target} at its {@code max_connections}. */
  void markFull(Backend target) {
    Backend[] f = full;
    if (f == null) {
      f = full = new Backend[4];
    } else if (fullCount == f.length) {
      f = full = Arrays.copyOf(f, f.length * 2);
    }
    f[fullCount++] = target;
  }

  /** Whether the dispatch under way found a backend at its cap. */
  boolean anyFull() {
    return fullCount > 0;
  }

  /** The backends the dispatch found at their cap (a copy: the queue keeps it). */
  Backend[] full() {
    Backend[] f = full;
    return f == null ? new Backend[0] : Arrays.copyOf(f, fullCount);
  }

  void clearFull() {
    fullCount = 0;
  }

  /**
   * The latest attempt failed before any response byte reached the client: whether another may follow, and when.
   * A retry needs a request that can be sent again ({@code replayable}), fewer attempts than {@code max_retries}
   * allows, a backoff that ends within the response timeout counted from the request's start, and room in the retry
   * budget; the first retry goes at once, later ones after a jittered backoff.
   *
   * @return nanoseconds to wait before the retry (0: at once), or -1 when the request gets no retry
   */
  long retryDelay(boolean replayable, ProxySettings settings, long startNanos, RetryBudget budget,
      ProxyMetrics metrics) {
    if (!replayable || count > settings.maxRetries()) {
      return -1;
    }
    // Retry number `count` (1 for the first).
    long wait = RetryBudget.backoffNanos(settings.retries(), count);
    if (wait > 0 && System.nanoTime() + wait - startNanos >= settings.responseTimeoutNanos()) {
      metrics.retrySkipped(false);
      return -1;
    }
    if (budgeted == AS_REQUEST) {
      if (!budget.tryStartRetry(settings.retries())) {
        metrics.retrySkipped(true);
        return -1;
      }
      budgeted = AS_RETRY;
    }
    Backend failed = last();
    if (failed != null) {
      failed.meters().retried();
      failed.stats().retried();
    }
    return wait;
  }
}
