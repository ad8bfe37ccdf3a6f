package dev.lb.proxy;

import dev.lb.backend.Backend;
import dev.lb.metrics.ProxyMetrics;
import dev.lb.pool.BackendConnection;
import dev.lb.pool.ConnectionPool;
import dev.lb.pool.WaitQueue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A request's wait in the loop's {@link WaitQueue} when every backend it may use is at its {@code max_connections}:
 * it enters the queue, leaves it when granted a slot, when {@code proxy.queue.timeout} passes, or when the exchange
 * ends, and records how long it waited. One instance per client connection; an entry per wait.
 */
final class QueueWait {
  /** What the exchange does with a wait's outcome. */
  interface Owner {
    /** Whether a granted slot can still be used (the request is still there). */
    boolean canTake();

    /** The wait ended with a slot of {@code backend}, with an idle connection or one to open. */
    void granted(Backend backend, @Nullable BackendConnection connection);

    /** No slot freed up within the queue's timeout. */
    void queueTimedOut();
  }

  private final Owner owner;
  private final ConnectionPool pool;
  private final ProxyMetrics metrics;
  private ClientSide client;
  /** The entry while the request waits, else null. */
  private @Nullable Entry waiting;

  QueueWait(Owner owner, ClientSide client, ConnectionPool pool, ProxyMetrics metrics) {
    this.owner = owner;
    this.pool = pool;
    this.metrics = metrics;
    this.client = client;
  }

  /** Serves another client connection (see {@link Exchange#bind}). */
  void bind(ClientSide client) {
    this.client = client;
  }

  /**
   * Enters the queue for a slot of one of {@code candidates}; a full queue is counted as a rejection.
   *
   * @return {@code WAITING}, {@code FULL} (the caller answers 503 at once), or {@code RETRY} when a slot freed up
   *     meanwhile and the dispatch should look again
   */
  WaitQueue.Enqueued enter(Backend[] candidates, long timeoutNanos) {
    WaitQueue q = pool.queue();
    Entry entry = new Entry(candidates);
    WaitQueue.Enqueued outcome = q == null ? WaitQueue.Enqueued.FULL : q.enqueue(entry);
    switch (outcome) {
      case FULL:
        metrics.queueRejected(true);
        break;
      case RETRY:
        break;
      default:
        waiting = entry;
        entry.timeout = client.executor().schedule(() -> onTimeout(entry), timeoutNanos, TimeUnit.NANOSECONDS);
    }
    return outcome;
  }

  /** Leaves the queue, if waiting in it (the exchange ends); a grant already on its way is given back on arrival. */
  void leave() {
    Entry entry = waiting;
    if (entry != null) {
      waiting = null;
      WaitQueue q = pool.queue();
      if (q != null && q.remove(entry)) {
        entry.stopWaiting();
      } else {
        entry.cancelTimeout();
      }
    }
  }

  private void onTimeout(Entry entry) {
    WaitQueue q = pool.queue();
    if (waiting != entry || q == null || !q.remove(entry)) {
      return;
    }
    waiting = null;
    entry.stopWaiting();
    metrics.queueRejected(false);
    owner.queueTimedOut();
  }

  private void onGranted(Entry entry, Backend backend, @Nullable BackendConnection connection) {
    if (waiting != entry || !owner.canTake()) {
      giveBack(backend, connection);
      return;
    }
    waiting = null;
    entry.stopWaiting();
    owner.granted(backend, connection);
  }

  /** Returns a granted slot nobody will use: its idle connection to the pool, or the slot to the queue. */
  private void giveBack(Backend backend, @Nullable BackendConnection connection) {
    if (connection != null) {
      connection.release();
    } else {
      WaitQueue q = pool.queue();
      if (q != null) {
        q.slotFreed(backend);
      } else {
        backend.releaseConnection();
      }
    }
  }

  /** One wait in the queue. */
  private final class Entry extends WaitQueue.Waiter {
    @Nullable ScheduledFuture<?> timeout;

    Entry(Backend[] candidates) {
      super(client.executor(), candidates, System.nanoTime());
    }

    @Override
    protected void granted(Backend backend, @Nullable BackendConnection connection) {
      onGranted(this, backend, connection);
    }

    /** The wait is over, whatever ended it: its timeout is cancelled and its length recorded. */
    void stopWaiting() {
      cancelTimeout();
      metrics.queueWait(System.nanoTime() - since());
    }

    void cancelTimeout() {
      ScheduledFuture<?> t = timeout;
      if (t != null) {
        t.cancel(false);
      }
    }
  }
}
