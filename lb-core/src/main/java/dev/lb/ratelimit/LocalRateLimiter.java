package dev.lb.ratelimit;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The buckets of every client this process has seen lately, in one concurrent map: a request looks its bucket up
 * (creating a full one for a new client), brings the bucket's limit up to date when the registry changed, and takes a
 * token. The map stays bounded whatever the number of distinct clients: a sweep drops full buckets every second (a
 * full bucket holds no information), and past {@code maxBuckets} new clients make room by dropping others (those
 * clients then start again from a full bucket).
 */
public final class LocalRateLimiter implements RateLimiter, AutoCloseable {
  /** Default upper bound on buckets held at once (about 100 MB at the bound). */
  public static final int DEFAULT_MAX_BUCKETS = 1_000_000;

  private final LimitRegistry registry;
  private final LongSupplier nanoTime;
  private final int maxBuckets;
  private final ConcurrentHashMap<String, TokenBucket> buckets = new ConcurrentHashMap<>();
  private final ScheduledExecutorService sweeper;

  /** A limiter on the system clock, sweeping every second. */
  public LocalRateLimiter(LimitRegistry registry) {
    this(registry, System::nanoTime, DEFAULT_MAX_BUCKETS, true);
  }

  /**
   * @param nanoTime a monotonic clock in nanoseconds
   * @param sweep whether to sweep full buckets every second (tests drive {@link #sweep()} themselves)
   */
  public LocalRateLimiter(LimitRegistry registry, LongSupplier nanoTime, int maxBuckets, boolean sweep) {
    this.registry = requireNonNull(registry, "registry");
    this.nanoTime = requireNonNull(nanoTime, "nanoTime");
    this.maxBuckets = maxBuckets;
    this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "lb-ratelimit-sweep");
      t.setDaemon(true);
      return t;
    });
    if (sweep) {
      sweeper.scheduleWithFixedDelay(this::sweep, 1, 1, TimeUnit.SECONDS);
    }
  }

  @Override
  public boolean acquire(String clientKey, Decision out, Executor executor, Runnable whenDecided) {
    tryAcquire(clientKey, out);
    return true;
  }

  /** Takes a token for this client now. */
  public boolean tryAcquire(String clientKey, Decision out) {
    long now = nanoTime.getAsLong();
    TokenBucket bucket = buckets.get(clientKey);
    if (bucket == null) {
      bucket = newBucket(clientKey, now);
    }
    long version = registry.version();
    if (bucket.registryVersion != version) {
      Limit limit = registry.limitOf(clientKey);
      if (!limit.equals(bucket.limit())) {
        bucket.reconfigure(limit, now);
      }
      bucket.registryVersion = version;
    }
    return bucket.tryAcquire(now, out);
  }

  private TokenBucket newBucket(String clientKey, long now) {
    if (buckets.size() >= maxBuckets) {
      makeRoom(now);
    }
    long version = registry.version();
    TokenBucket fresh = new TokenBucket(registry.limitOf(clientKey), now);
    fresh.registryVersion = version;
    TokenBucket raced = buckets.putIfAbsent(clientKey, fresh);
    return raced != null ? raced : fresh;
  }

  /** Drops full buckets; if that is not enough, drops others until a tenth of the bound is free. */
  private synchronized void makeRoom(long now) {
    if (buckets.size() < maxBuckets) {
      return;
    }
    sweep();
    int target = maxBuckets - Math.max(1, maxBuckets / 10);
    Iterator<TokenBucket> it = buckets.values().iterator();
    while (buckets.size() > target && it.hasNext()) {
      it.next();
      it.remove();
    }
  }

  /** Drops every full bucket. */
  public void sweep() {
    long now = nanoTime.getAsLong();
    buckets.values().removeIf(b -> b.isFull(now));
  }

  /** Buckets held now. */
  public int size() {
    return buckets.size();
  }

  /** The bucket of this client, if it is held. */
  public @org.jspecify.annotations.Nullable TokenBucket bucket(String clientKey) {
    return buckets.get(clientKey);
  }

  /**
   * The levels of the non-full buckets of these clients (those the store knows), at most {@code max}: what a drain
   * saves so that a restart does not hand them full buckets.
   */
  public List<BucketLevel> levels(Collection<String> clients, int max, java.time.Instant now) {
    long t = nanoTime.getAsLong();
    List<BucketLevel> out = new ArrayList<>();
    for (String id : clients) {
      if (out.size() >= max) {
        break;
      }
      TokenBucket b = buckets.get(id);
      if (b != null && !b.isFull(t)) {
        out.add(new BucketLevel(id, b.tokens(t), now));
      }
    }
    return out;
  }

  /**
   * Restores saved levels: each client's bucket gets the tokens it had plus what it would have regained since it was
   * saved; levels that would be full by now are skipped.
   */
  public int restore(Collection<BucketLevel> levels, java.time.Instant now) {
    long t = nanoTime.getAsLong();
    int restored = 0;
    for (BucketLevel level : levels) {
      String id = ClientIds.normalize(level.clientId());
      Limit limit = registry.limitOf(id);
      double elapsed = Math.max(0, java.time.Duration.between(level.savedAt(), now).toNanos() / 1e9);
      double tokens = level.tokens() + elapsed * limit.ratePerSec();
      if (tokens >= limit.capacity()) {
        continue;
      }
      TokenBucket bucket = new TokenBucket(limit, t);
      bucket.registryVersion = registry.version();
      bucket.setTokens(tokens, t);
      buckets.put(id, bucket);
      restored++;
    }
    return restored;
  }

  @Override
  public void close() {
    sweeper.shutdownNow();
  }

  /** For tests: every bucket held. */
  Map<String, TokenBucket> buckets() {
    return buckets;
  }
}
