package dev.lb.pool;

import static java.util.Objects.requireNonNull;

import dev.lb.backend.Backend;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;

/**
 * Requests waiting for a connection to a backend at its {@code max_connections} (HAProxy's queue, Envoy's pending
 * requests): one FIFO shared by every event loop, so that the first request to wait is the first served whichever
 * loop it came from.
 *
 * <p>A waiter is served by the first of its candidate backends to free something. A connection that closes gives its
 * slot to the oldest waiter that can use it, who opens a new connection. An idle connection coming back goes, as it
 * is, to the oldest waiter on its own event loop, unless a waiter on another loop has waited more than
 * {@link #LOOP_PREFERENCE_NANOS} longer: then it is closed and its slot goes to that one (handing a connection
 * across loops costs a close and a connect, so strict FIFO across loops would cut a capped backend's throughput to a
 * third with two loops). A freed slot or connection goes only to a waiter while one waits for it, so a new request
 * cannot overtake the queue. When a request starts waiting, loops that hold idle connections to its backends
 * are asked to close one, since an idle connection elsewhere would otherwise hold the slot until it timed out.
 *
 * <p>Thread-safe: every change happens under this object's lock; the grant itself runs on the waiter's event loop.
 * Uncapped backends never reach the lock: releasing their slot is one atomic decrement.
 */
public final class WaitQueue {

  /** A request waiting for a connection. Its {@link #granted} runs on its own event loop. */
  public abstract static class Waiter {
    private final EventExecutor executor;
    private final Backend[] candidates;
    private final long since;
    /** A slot is on its way to it (a connection on another loop is closing for it); guarded by the queue's lock. */
    private boolean slotComing;

    /**
     * @param executor the event loop of the waiting request
     * @param candidates the backends it may use (full when it started waiting); the array is kept, not copied
     * @param since when it started waiting, {@link System#nanoTime()} scale
     */
    protected Waiter(EventExecutor executor, Backend[] candidates, long since) {
      this.executor = requireNonNull(executor, "executor");
      this.candidates = requireNonNull(candidates, "candidates");
      this.since = since;
    }

    /** When it started waiting. */
    public long since() {
      return since;
    }

    boolean accepts(Backend backend) {
      for (Backend b : candidates) {
        if (b == backend) {
          return true;
        }
      }
      return false;
    }

    /**
     * The waiter is served, on its event loop: it holds a slot of {@code backend}, and the idle {@code connection}
     * that comes with it, or null when it must open one (with {@link ConnectionPool#connectReserved(Backend)}). A
     * waiter that no longer wants it must give it back: {@link BackendConnection#release()} the connection, or
     * {@link WaitQueue#slotFreed(Backend)} the slot.
     */
    protected abstract void granted(Backend backend, @Nullable BackendConnection connection);
  }

  /** The outcome of {@link #enqueue}. */
  public enum Enqueued {
    /** The request waits. */
    WAITING,
    /** A candidate has a free slot after all: try it again. */
    RETRY,
    /** The queue is full: answer 503 at once. */
    FULL
  }

  /**
   * How much longer than the oldest waiter on a connection's own loop a waiter on another loop must have waited for
   * the connection's slot to move to it. Within it, a connection coming back idle serves its own loop's oldest waiter
   * as it is; handing it to another loop costs a close and a new connection (measured with
   * {@code lb-it/bench/queue.sh}: a strict FIFO across two loops served about a third of the requests per second of
   * one loop).
   */
  static final long LOOP_PREFERENCE_NANOS = 10_000_000;

  /** Longest wait for a backend to close a connection whose slot goes to a waiter on another loop. */
  static final long HANDOVER_CLOSE_MILLIS = 1000;

  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private volatile int maxSize;
  private volatile int size;
  private volatile BiConsumer<Backend, EventExecutor> reclaimIdle = (backend, except) -> {};

  /** @param maxSize most requests waiting at once; 0 answers every request that would wait with 503 */
  public WaitQueue(int maxSize) {
    this.maxSize = maxSize;
  }

  /** Changes the size (a reload); requests already waiting stay. */
  public void maxSize(int value) {
    this.maxSize = value;
  }

  /**
   * Who closes an idle connection to a backend on the loops other than the given one, so that its slot frees up for
   * a waiter.
   */
  void reclaimIdle(BiConsumer<Backend, EventExecutor> value) {
    this.reclaimIdle = requireNonNull(value, "reclaimIdle");
  }

  /** Requests waiting now. */
  public int size() {
    return size;
  }

  /**
   * Makes the request wait, unless one of its candidates has a free slot now (a slot freed between its attempt and
   * this call would otherwise be missed) or the queue is full.
   */
  public Enqueued enqueue(Waiter waiter) {
    synchronized (this) {
      for (Backend b : waiter.candidates) {
        if (b.hasFreeSlot()) {
          return Enqueued.RETRY;
        }
      }
      if (waiters.size() >= maxSize) {
        return Enqueued.FULL;
      }
      waiters.addLast(waiter);
      size = waiters.size();
    }
    for (Backend b : waiter.candidates) {
      reclaimIdle.accept(b, waiter.executor);
    }
    return Enqueued.WAITING;
  }

  /**
   * Takes a waiter out (its timeout, its client gone).
   *
   * @return whether it was still waiting; if not, a grant is on its way to it
   */
  public synchronized boolean remove(Waiter waiter) {
    boolean removed = waiters.remove(waiter);
    size = waiters.size();
    return removed;
  }

  /** A connection to {@code backend} closed, or a granted slot was not used: the slot goes to a waiter, or is free. */
  public void slotFreed(Backend backend) {
    if (size == 0 && backend.maxConnections() <= 0) {
      backend.releaseConnection();
      return;
    }
    Waiter w;
    synchronized (this) {
      w = take(backend);
      if (w == null) {
        backend.releaseConnection();
        return;
      }
    }
    grant(w, backend, null);
  }

  /**
   * An idle connection came back on the loop {@code loop}: handed to the first waiter that can use it when that
   * waiter is on the same loop, else closed (its slot then goes to that waiter) when anyone waits for its backend.
   *
   * @return whether the connection was taken (handed over or closing); false when nobody waits for it
   */
  boolean offerToWaiter(BackendConnection connection, EventExecutor loop) {
    if (size == 0) {
      return false;
    }
    Backend backend = connection.backend();
    Waiter w;
    synchronized (this) {
      Waiter oldest = null;
      Waiter oldestHere = null;
      for (Waiter x : waiters) {
        if (!x.accepts(backend)) {
          continue;
        }
        if (oldest == null && !x.slotComing) {
          oldest = x;
        }
        if (x.executor == loop) {
          oldestHere = x;
          break;
        }
      }
      if (oldestHere == null && oldest == null) {
        return false;
      }
      if (oldestHere != null && (oldest == null || oldestHere.since - oldest.since <= LOOP_PREFERENCE_NANOS)) {
        waiters.remove(oldestHere);
        size = waiters.size();
        w = oldestHere;
      } else {
        // The oldest waiter is on another loop and has waited clearly longer: the slot moves there.
        requireNonNull(oldest, "oldest").slotComing = true;
        w = null;
      }
    }
    if (w == null) {
      connection.closeGracefully(HANDOVER_CLOSE_MILLIS);
    } else {
      grant(w, connection.backend(), connection);
    }
    return true;
  }

  /** Whether anyone waits for this backend. */
  boolean wanted(Backend backend) {
    if (size == 0) {
      return false;
    }
    synchronized (this) {
      return first(backend) != null;
    }
  }

  private @Nullable Waiter first(Backend backend) {
    for (Waiter w : waiters) {
      if (w.accepts(backend)) {
        return w;
      }
    }
    return null;
  }

  private @Nullable Waiter take(Backend backend) {
    for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      if (w.accepts(backend)) {
        it.remove();
        size = waiters.size();
        w.slotComing = false;
        return w;
      }
    }
    return null;
  }

  private void grant(Waiter w, Backend backend, @Nullable BackendConnection connection) {
    try {
      w.executor.execute(() -> w.granted(backend, connection));
    } catch (java.util.concurrent.RejectedExecutionException stopping) {
      // The loop is shutting down: its connections are closing anyway.
      if (connection != null) {
        connection.channel().close();
      } else {
        backend.releaseConnection();
      }
    }
  }
}
