package dev.lb.server.limits;

import dev.lb.ratelimit.BucketLevel;
import dev.lb.ratelimit.Limit;
import dev.lb.ratelimit.LimitStore;
import dev.lb.ratelimit.StoreException;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * A store around a real one that records which threads call it and how often, and that can be switched off (every
 * call throws, as during an outage) or made to hang.
 */
final class TestStore implements LimitStore {
  private final LimitStore delegate;
  private final Set<String> threads = ConcurrentHashMap.newKeySet();
  private final AtomicInteger versionCalls = new AtomicInteger();
  private volatile boolean down;
  private volatile @Nullable CountDownLatch hang;

  TestStore(LimitStore delegate) {
    this.delegate = delegate;
  }

  /** While down, every call fails as an unreachable database would. */
  void down(boolean down) {
    this.down = down;
  }

  /** Until the latch opens, every call waits. */
  void hangUntil(@Nullable CountDownLatch latch) {
    this.hang = latch;
  }

  /** Names of the threads that have called this store. */
  Set<String> threads() {
    return Set.copyOf(threads);
  }

  /** How many times {@link #version()} was called: one per poll. */
  int versionCalls() {
    return versionCalls.get();
  }

  private void enter() throws StoreException {
    threads.add(Thread.currentThread().getName());
    CountDownLatch latch = hang;
    if (latch != null) {
      try {
        latch.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (down) {
      throw new StoreException("store test: connection refused");
    }
  }

  @Override
  public Map<String, Limit> loadAll() throws StoreException {
    enter();
    return delegate.loadAll();
  }

  @Override
  public long version() throws StoreException {
    versionCalls.incrementAndGet();
    enter();
    return delegate.version();
  }

  @Override
  public @Nullable Limit get(String clientId) throws StoreException {
    enter();
    return delegate.get(clientId);
  }

  @Override
  public boolean insert(String clientId, Limit limit) throws StoreException {
    enter();
    return delegate.insert(clientId, limit);
  }

  @Override
  public boolean upsert(String clientId, Limit limit) throws StoreException {
    enter();
    return delegate.upsert(clientId, limit);
  }

  @Override
  public boolean delete(String clientId) throws StoreException {
    enter();
    return delegate.delete(clientId);
  }

  @Override
  public void saveLevels(Collection<BucketLevel> levels) throws StoreException {
    enter();
    delegate.saveLevels(levels);
  }

  @Override
  public List<BucketLevel> loadLevels() throws StoreException {
    enter();
    return delegate.loadLevels();
  }

  @Override
  public void close() {
    threads.add(Thread.currentThread().getName());
    delegate.close();
  }
}
