package dev.lb.server.limits;

import static java.util.Objects.requireNonNull;

import dev.lb.ratelimit.BucketLevel;
import dev.lb.ratelimit.ClientIds;
import dev.lb.ratelimit.ClientLimit;
import dev.lb.ratelimit.Limit;
import dev.lb.ratelimit.LimitRegistry;
import dev.lb.ratelimit.LimitSource;
import dev.lb.ratelimit.LimitStore;
import dev.lb.ratelimit.StoreException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jspecify.annotations.Nullable;

/**
 * Keeps the {@link LimitRegistry} in step with the store, and applies the admin API's changes.
 *
 * <p>All store calls run on one thread of its own, {@value #THREAD_NAME}, one at a time: the start load, the polls,
 * the writes, the bucket level saves. So no event loop ever waits on the database, and a poll's reload cannot
 * overtake a write made through this replica. Reads ({@link #list}, {@link #get}) come from the registry, so they
 * answer during an outage; the proxy keeps enforcing the limits last read; writes fail with
 * {@link StoreUnavailableException}. An outage is logged once when it starts and once when it ends.
 *
 * <p>Without a store (rate limiting off) reads answer from the configuration, writes fail, and there is nothing to
 * poll or save.
 */
public final class LimitsService implements ClientLimits, AutoCloseable {
  private static final Logger LOG = LogManager.getLogger(LimitsService.class);

  /** The name of the thread every store call runs on. */
  public static final String THREAD_NAME = "lb-store";
  /** How long a write waits for the store; the admin API answers 503 after it. */
  static final Duration WRITE_TIMEOUT = Duration.ofSeconds(5);
  /** How long the start load and a bucket level save or restore wait for the store. */
  static final Duration BULK_TIMEOUT = Duration.ofSeconds(20);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

  /** One store call, made on the store thread. */
  @FunctionalInterface
  private interface StoreCall<T> {
    T call(LimitStore store) throws StoreException;
  }

  private final LimitRegistry registry;
  private final @Nullable LimitStore store;
  private final Duration pollInterval;
  private final Duration writeTimeout;
  private final ScheduledThreadPoolExecutor executor;
  private final OutageLog outage = new OutageLog(LOG, System::nanoTime);
  /** The store's version when the registry was last loaded from it; store thread only. */
  private long loadedVersion = Long.MIN_VALUE;
  private @Nullable ScheduledFuture<?> polling;
  private boolean closed;

  /**
   * @param store null when rate limiting is off
   * @param pollInterval how often the store's version is read, to pick up other replicas' changes
   */
  public LimitsService(LimitRegistry registry, @Nullable LimitStore store, Duration pollInterval) {
    this(registry, store, pollInterval, WRITE_TIMEOUT);
  }

  LimitsService(LimitRegistry registry, @Nullable LimitStore store, Duration pollInterval, Duration writeTimeout) {
    this.registry = requireNonNull(registry, "registry");
    this.store = store;
    if (pollInterval.isNegative() || pollInterval.isZero()) {
      throw new IllegalArgumentException("poll_interval: " + pollInterval + " (expected: above 0)");
    }
    this.pollInterval = pollInterval;
    this.writeTimeout = writeTimeout;
    this.executor = new ScheduledThreadPoolExecutor(1, task -> {
      Thread thread = new Thread(task, THREAD_NAME);
      // A forgotten close must not keep the JVM alive.
      thread.setDaemon(true);
      return thread;
    });
    executor.setRemoveOnCancelPolicy(true);
  }

  /**
   * Loads the store's entries into the registry, waiting for it, then polls the store's version every
   * {@code poll_interval} and reloads after a change.
   *
   * @throws StoreException when the store cannot be read: lb does not start without knowing its limits
   */
  public synchronized void start() throws StoreException {
    if (closed || polling != null) {
      throw new IllegalStateException(closed ? "closed" : "already started");
    }
    if (store == null) {
      return;
    }
    int loaded;
    try {
      loaded = await(this::reload, BULK_TIMEOUT);
    } catch (TimeoutException e) {
      throw new StoreException("the store did not answer within " + BULK_TIMEOUT.toSeconds() + "s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while loading the store", e);
    }
    LOG.info("limits: {} clients loaded from the store, changes polled every {}ms", loaded, pollInterval.toMillis());
    long every = pollInterval.toNanos();
    polling = executor.scheduleWithFixedDelay(this::poll, every, every, TimeUnit.NANOSECONDS);
  }

  /**
   * The store as the status page shows it: {@code none} without one (rate limiting off), {@code ok} while it answers,
   * else since when and why it does not.
   */
  public String storeStatus() {
    if (store == null) {
      return "none";
    }
    String outageNow = outage.outage();
    return outageNow == null ? "ok" : outageNow;
  }

  @Override
  public List<ClientLimit> list() {
    return registry.list();
  }

  @Override
  public @Nullable ClientLimit get(String clientId) {
    return registry.find(clientId);
  }

  @Override
  public @Nullable ClientLimit create(String clientId, Limit limit) throws StoreUnavailableException {
    String id = key(clientId);
    return write(store -> {
      if (store.insert(id, limit)) {
        registry.putApi(id, limit);
        return Optional.of(new ClientLimit(id, limit, LimitSource.API));
      }
      // Likely another replica's entry this one has not polled yet: enforce it now, as the 409 says it exists.
      Limit existing = store.get(id);
      if (existing != null) {
        registry.putApi(id, existing);
      }
      return Optional.<ClientLimit>empty();
    }).orElse(null);
  }

  @Override
  public boolean put(String clientId, Limit limit) throws StoreUnavailableException {
    String id = key(clientId);
    return write(store -> {
      boolean created = store.upsert(id, limit);
      registry.putApi(id, limit);
      return created;
    });
  }

  @Override
  public boolean delete(String clientId) throws StoreUnavailableException {
    String id = key(clientId);
    return write(store -> {
      boolean removed = store.delete(id);
      // Also when the store had no entry: another replica removed it, this one has not polled yet.
      registry.removeApi(id);
      return removed;
    });
  }

  /**
   * The bucket levels saved by the last drain, waiting for the store; none (and one log line) when it cannot be read.
   */
  public Collection<BucketLevel> restoreLevels() {
    if (store == null) {
      return List.of();
    }
    try {
      List<BucketLevel> levels = await(LimitStore::loadLevels, BULK_TIMEOUT);
      LOG.info("bucket levels: {} restored from the store", levels.size());
      return levels;
    } catch (StoreException e) {
      LOG.warn("bucket levels: none restored: {}", e.getMessage());
    } catch (TimeoutException e) {
      LOG.warn("bucket levels: none restored, the store did not answer within {}s", BULK_TIMEOUT.toSeconds());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      LOG.warn("bucket levels: none restored, interrupted");
    }
    return List.of();
  }

  /**
   * Saves bucket levels, waiting at most {@link #BULK_TIMEOUT}. A failure is logged, not thrown: it must not stop a
   * drain.
   */
  public void saveLevels(Collection<BucketLevel> levels) {
    if (store == null) {
      return;
    }
    List<BucketLevel> copy = List.copyOf(levels);
    try {
      await(store -> {
        store.saveLevels(copy);
        return copy.size();
      }, BULK_TIMEOUT);
      LOG.info("bucket levels: {} saved to the store", copy.size());
    } catch (StoreException e) {
      LOG.warn("bucket levels: {} not saved: {}", copy.size(), e.getMessage());
    } catch (TimeoutException e) {
      LOG.warn("bucket levels: {} not saved, the store did not answer within {}s", copy.size(),
          BULK_TIMEOUT.toSeconds());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      LOG.warn("bucket levels: {} not saved, interrupted", copy.size());
    }
  }

  /** Stops polling, lets a store call in progress finish (briefly), and closes the store. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      if (polling != null) {
        polling.cancel(false);
      }
    }
    LimitStore s = store;
    if (s != null) {
      // On the store thread too, after whatever call is under way, so the pool never closes under a statement.
      executor.execute(s::close);
    }
    executor.shutdown();
    boolean stopped = false;
    try {
      stopped = executor.awaitTermination(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!stopped) {
      LOG.warn("store: a call did not finish within {}s of closing; closing the store under it",
          CLOSE_TIMEOUT.toSeconds());
      executor.shutdownNow();
      if (s != null) {
        s.close();
      }
    }
  }

  /** The start load and a poll's reload: the version first, so entries read after it are at least that new. */
  private int reload(LimitStore store) throws StoreException {
    long version = store.version();
    Map<String, Limit> entries = store.loadAll();
    registry.replaceApi(entries);
    loadedVersion = version;
    return entries.size();
  }

  /** Every {@code poll_interval}, on the store thread. Never throws: that would end the polling silently. */
  private void poll() {
    LimitStore s = store;
    if (s == null) {
      return;
    }
    try {
      if (s.version() != loadedVersion) {
        reload(s);
      }
      outage.succeeded();
    } catch (StoreException e) {
      outage.failed(e);
    } catch (RuntimeException e) {
      outage.failed(new StoreException("store poll failed: " + e, e));
    }
  }

  /** A write through the API: the store, then this replica's registry, on the store thread; waits for the outcome. */
  private <T> T write(StoreCall<T> call) throws StoreUnavailableException {
    if (store == null) {
      throw new RateLimitingOffException();
    }
    try {
      return await(call, writeTimeout);
    } catch (StoreException e) {
      throw new StoreUnavailableException(String.valueOf(e.getMessage()), e);
    } catch (TimeoutException e) {
      // The write may still happen if it had started: it then reaches the registry too, as a poll would.
      throw new StoreUnavailableException("the store did not answer within " + writeTimeout.toMillis() + "ms", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreUnavailableException("interrupted while waiting for the store", e);
    }
  }

  /**
   * Runs a call on the store thread and waits for it. Its outcome feeds the outage log: a failure starts an outage,
   * a success ends one.
   */
  private <T> T await(StoreCall<T> call, Duration timeout)
      throws StoreException, TimeoutException, InterruptedException {
    LimitStore s = requireNonNull(store, "store");
    Callable<T> task = () -> {
      try {
        T result = call.call(s);
        outage.succeeded();
        return result;
      } catch (StoreException e) {
        outage.failed(e);
        throw e;
      }
    };
    Future<T> future;
    try {
      future = executor.submit(task);
    } catch (RejectedExecutionException e) {
      throw new StoreException("store closed", e);
    }
    try {
      return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException | InterruptedException e) {
      // Not started yet (queued behind a slow call): it never will be. Started: it finishes on its own.
      future.cancel(false);
      throw e;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof StoreException storeFailure) {
        throw storeFailure;
      }
      if (cause instanceof RuntimeException runtime) {
        throw runtime;
      }
      if (cause instanceof Error error) {
        throw error;
      }
      throw new IllegalStateException(cause);
    }
  }

  /**
   * The key a client id is stored under: normalised as the registry and the proxy see it. The admin API validates ids
   * before calling; one that slips through is a caller's bug, not a store failure.
   */
  private static String key(String clientId) {
    String id = ClientIds.normalize(clientId);
    String problem = ClientIds.problem(id);
    if (problem != null) {
      throw new IllegalArgumentException("client_id: expected " + problem);
    }
    return id;
  }
}
