package dev.lb.server.cluster;

import static java.util.Objects.requireNonNull;

import dev.lb.config.RateLimitConfig;
import dev.lb.ratelimit.Decision;
import dev.lb.ratelimit.Limit;
import dev.lb.ratelimit.LimitRegistry;
import dev.lb.ratelimit.RateLimiter;
import dev.lb.ratelimit.TokenBucket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jspecify.annotations.Nullable;

/**
 * One token bucket per client for the whole cluster, kept in Redis, without a Redis round trip per request.
 *
 * <p>Redis holds each client's GCRA state (its theoretical arrival time, one key that expires when the bucket is
 * full). A replica asks for a <em>lease</em> of up to N tokens at once ({@link Gcra}: one script, Redis's own clock),
 * spends them locally, and asks again before they run out (one call in flight per client; requests that find no
 * token wait for it, on no thread). A refusal is remembered until its retry-after, so a refused client does not reach
 * Redis either. Tokens a replica holds and does not use go back when the lease has been idle for
 * {@link #RETURN_AFTER_NANOS}. Since tokens leave the shared bucket before they are spent, the cluster never admits
 * more than the limit; what it may admit less is what leases hold unused, at most the lease size per replica. The
 * lease size is a tenth of a second of the client's rate (1 for a client at 1/s: one call per request), at most half
 * its capacity.
 *
 * <p>When Redis does not answer within {@code rate_limit.redis.timeout}, the replica falls back to its
 * {@code failure_mode} ({@link Mode}) at once, with one log line, and goes back to Redis when a heartbeat succeeds
 * again. Nothing here blocks a caller: answers arrive on the client's threads and are handed to the caller's
 * executor.
 */
public final class ClusterRateLimiter implements RateLimiter, AutoCloseable {
  private static final Logger log = LogManager.getLogger(ClusterRateLimiter.class);
  /** How much of a client's rate one lease asks for. */
  static final long LEASE_NANOS = 100_000_000L;
  /** Unused leased tokens go back after the lease was idle this long. */
  static final long RETURN_AFTER_NANOS = 1_000_000_000L;
  /** Leases idle this long with nothing held are forgotten. */
  static final long FORGET_AFTER_NANOS = 30_000_000_000L;
  /** The most requests one replica admits on credit between two calls for a client. */
  static final int MAX_CREDIT = 1_000;
  /** Credit spent is told to Redis by the heartbeat once the oldest of it is this old, if no call told it before. */
  static final long DEBT_MAX_AGE_NANOS = 10_000_000_000L;
  /** How long the most replicas seen is remembered ({@link #rememberReplicas}). */
  static final long REPLICAS_MEMORY_NANOS = 15_000_000_000L;
  /**
   * The most clients one heartbeat gives tokens back or charges credit for (in calls of {@link #MAX_BATCH}): with
   * 100,000 clients far below their limit, charging them all at once would keep Redis busy for longer than a
   * request's call may wait.
   */
  static final int MAX_TICK_TAKES = 1_024;
  /** The most leases one script call asks for. */
  static final int MAX_BATCH = 256;

  /** How the replica decides now. */
  public enum Mode {
    /** Through leases from Redis. */
    REDIS,
    /** Redis is down: a local bucket per client with its limit divided by the replicas last seen. */
    LOCAL,
    /** Redis is down: everything passes. */
    OPEN,
    /** Redis is down: everything is refused with 503. */
    CLOSED
  }

  /** What the limiter needs of Redis; {@link LettuceGcra} in the server, a fake in unit tests. */
  public interface Gcra {
    /**
     * For each {@link Take}, in one call: takes up to {@code want} tokens from the client's shared bucket, gives back
     * {@code back} unused ones and charges the {@code debt} admitted on credit. Answers a grant per take, in their
     * order, on any thread, or fails (a timeout included).
     */
    CompletionStage<List<Grant>> takeAll(List<Take> takes);

    /** Announces this replica and answers how many were seen alive (itself included). */
    CompletionStage<Integer> heartbeat();
  }

  /**
   * A lease's answer: tokens granted, whole tokens left in the shared bucket after it, microseconds until the bucket
   * is full, and (when nothing was granted) microseconds until one token is there.
   */
  public record Grant(int granted, long remaining, long resetMicros, long retryMicros) {}

  /**
   * One client's part of a {@link Gcra#takeAll}: tokens wanted, tokens given back, and requests admitted on credit
   * ({@code debt}), the last of them {@code debtAgeMicros} ago.
   */
  public record Take(String client, Limit limit, int want, int back, int debt, long debtAgeMicros) {
    /** Wants {@code want} tokens and gives back {@code back}, with nothing admitted on credit to report. */
    public Take(String client, Limit limit, int want, int back) {
      this(client, limit, want, back, 0, 0);
    }
  }

  /** One client's lease. Guarded by itself. */
  private static final class Lease {
    final String client;
    Limit limit;
    int tokens;
    boolean refilling;
    long refusedUntil;
    long remaining;
    long fullAt;
    long lastUsed;
    /** Requests this replica may still admit on credit: without tokens in hand, paid for with its next call. */
    int credit;
    /** Requests admitted on credit and not yet told to Redis, the first at {@link #debtSince}, the last at {@link #debtAt}. */
    int debt;
    long debtSince;
    long debtAt;
    final List<Waiter> waiters = new ArrayList<>(2);

    Lease(String client, Limit limit) {
      this.client = client;
      this.limit = limit;
    }
  }

  private record Waiter(Decision out, Executor executor, Runnable whenDecided) {}

  private final LimitRegistry registry;
  private final Gcra redis;
  private final RateLimitConfig.FailureMode failureMode;
  private final LongSupplier nanoTime;
  private final ClusterMetrics metrics;
  private final Map<String, Lease> leases = new ConcurrentHashMap<>();
  private final Map<String, TokenBucket> fallback = new ConcurrentHashMap<>();
  private final Map<Executor, Batch> batches = new ConcurrentHashMap<>();
  private final @Nullable ScheduledExecutorService timer;
  private volatile Mode mode = Mode.REDIS;
  private volatile int replicas = 1;
  private int replicasMost;
  private long replicasMostAt;
  private volatile String lastFailure = "";

  /**
   * @param timer runs the heartbeat and returns idle leases every second; null for none (tests drive {@link #tick})
   */
  public ClusterRateLimiter(LimitRegistry registry, Gcra redis, RateLimitConfig.FailureMode failureMode,
      LongSupplier nanoTime, ClusterMetrics metrics, @Nullable ScheduledExecutorService timer) {
    this.registry = requireNonNull(registry, "registry");
    this.redis = requireNonNull(redis, "redis");
    this.failureMode = requireNonNull(failureMode, "failureMode");
    this.nanoTime = requireNonNull(nanoTime, "nanoTime");
    this.metrics = requireNonNull(metrics, "metrics");
    this.timer = timer;
    metrics.mode(() -> mode);
    if (timer != null) {
      timer.scheduleWithFixedDelay(this::tick, 0, 1, TimeUnit.SECONDS);
    }
  }

  /** How the replica decides now. */
  public Mode mode() {
    return mode;
  }

  /** Replicas last seen alive by the heartbeat (this one included). */
  public int replicas() {
    return replicas;
  }

  /** Why Redis was last given up on; empty while it never was. */
  public String lastFailure() {
    return lastFailure;
  }

  @Override
  public boolean acquire(String clientKey, Decision out, Executor executor, Runnable whenDecided) {
    Mode now = mode;
    if (now != Mode.REDIS) {
      decideWithout(now, clientKey, out);
      return true;
    }
    Limit limit = registry.limitOf(clientKey);
    long t = nanoTime.getAsLong();
    Lease lease = leases.computeIfAbsent(clientKey, k -> new Lease(k, limit));
    boolean refill = false;
    boolean queued = false;
    int want = 0;
    synchronized (lease) {
      if (!lease.limit.equals(limit)) {
        lease.limit = limit;
        lease.credit = 0;
      }
      lease.lastUsed = t;
      if (lease.tokens > 0) {
        lease.tokens--;
        allow(lease, out, t);
        int size = leaseSize(limit);
        // Ask for the next lease when half of this one is gone; not for a lease of one (a slow client: its next
        // request asks), since a refusal to a request nobody made yet would only cost a call.
        if (size > 1 && lease.tokens * 2 < size && !lease.refilling && t - lease.refusedUntil >= 0) {
          lease.refilling = true;
          refill = true;
          want = size;
        }
      } else if (lease.refusedUntil - t > 0) {
        refuse(lease, out, t);
        return true;
      } else if (lease.credit > 0) {
        lease.credit--;
        if (lease.debt++ == 0) {
          lease.debtSince = t;
        }
        lease.debtAt = t;
        out.set(true, limit.capacity(), Math.max(0, lease.remaining - lease.debt), Math.max(0, lease.fullAt - t), 0);
      } else {
        lease.waiters.add(new Waiter(out, executor, whenDecided));
        queued = true;
        if (!lease.refilling) {
          lease.refilling = true;
          refill = true;
          want = Math.max(leaseSize(limit), lease.waiters.size());
        }
      }
    }
    if (refill) {
      // Sent after the event loop has handled what it read, with every other lease asked for meanwhile. A queued
      // request is decided through its executor even when the answer comes at once (a failure while disconnected):
      // Netty's execute never runs the task inside this call.
      batchFor(executor).add(lease, limit, want);
    }
    return !queued;
  }

  private Batch batchFor(Executor executor) {
    Batch b = batches.get(executor);
    return b != null ? b : batches.computeIfAbsent(executor, Batch::new);
  }

  /**
   * The leases one event loop asks for while it handles what it read, sent as one script call once it has (one
   * task on that loop); the answers come back to it as one task too. Under load this turns a call per request into a
   * call per loop turn: Redis parses, and lb encodes, one command for many clients.
   */
  private final class Batch implements Runnable {
    private final Executor executor;
    private List<Pending> pending = new ArrayList<>();
    private boolean scheduled;

    Batch(Executor executor) {
      this.executor = executor;
    }

    void add(Lease lease, Limit limit, int want) {
      boolean schedule;
      synchronized (this) {
        pending.add(new Pending(lease, limit, want));
        schedule = !scheduled;
        scheduled = true;
      }
      if (schedule) {
        try {
          executor.execute(this);
        } catch (java.util.concurrent.RejectedExecutionException e) {
          run(); // the loop is shutting down: ask now, from here
        }
      }
    }

    @Override
    public void run() {
      List<Pending> now;
      synchronized (this) {
        now = pending;
        pending = new ArrayList<>();
        scheduled = false;
      }
      inBatches(now, ClusterRateLimiter.this::send);
    }
  }

  /** {@code each} for consecutive parts of {@code all} of at most {@link #MAX_BATCH}. */
  private static <T> void inBatches(List<T> all, Consumer<List<T>> each) {
    for (int from = 0; from < all.size(); from += MAX_BATCH) {
      each.accept(all.subList(from, Math.min(all.size(), from + MAX_BATCH)));
    }
  }

  /**
   * One call to Redis, timed into the metrics; a failure (a timeout included) switches the replica to its
   * {@code failure_mode} before anyone waiting on the answer sees it.
   */
  private <T> CompletionStage<T> call(Supplier<CompletionStage<T>> redisCall) {
    long started = nanoTime.getAsLong();
    return redisCall.get().whenComplete((answer, failure) -> {
      metrics.call(nanoTime.getAsLong() - started, failure == null);
      if (failure != null) {
        redisFailed(failure);
      }
    });
  }

  private record Pending(Lease lease, Limit limit, int want) {}

  private void send(List<Pending> part) {
    List<Take> takes = new ArrayList<>(part.size());
    long t = nanoTime.getAsLong();
    for (Pending p : part) {
      Lease lease = p.lease;
      synchronized (lease) {
        takes.add(new Take(lease.client, p.limit, p.want, 0, lease.debt, (t - lease.debtAt) / 1000));
        lease.debt = 0;
      }
    }
    call(() -> redis.takeAll(takes)).whenComplete((grants, failure) -> {
      Deliveries out = new Deliveries();
      for (int i = 0; i < part.size(); i++) {
        Pending p = part.get(i);
        if (failure != null) {
          unanswered(p.lease, out);
        } else {
          answered(p.lease, p.want, grants.get(i), out);
        }
      }
      out.run();
    });
  }

  /** The waiters decided by one answer, handed to their event loops as one task per loop. */
  private static final class Deliveries {
    private final Map<Executor, List<Runnable>> byExecutor = new java.util.IdentityHashMap<>(2);

    void add(Waiter w) {
      byExecutor.computeIfAbsent(w.executor, e -> new ArrayList<>()).add(w.whenDecided);
    }

    void run() {
      byExecutor.forEach((executor, tasks) -> {
        try {
          executor.execute(tasks.size() == 1 ? tasks.get(0) : () -> {
            for (Runnable task : tasks) {
              try {
                task.run();
              } catch (RuntimeException e) {
                log.warn("rate limit: delivering a decision failed", e);
              }
            }
          });
        } catch (java.util.concurrent.RejectedExecutionException e) {
          // The loop has shut down, and its connections with it: nobody waits for these decisions.
        }
      });
    }
  }

  /** The bucket's emission interval in whole microseconds (at least 1), as the script and its callers count it. */
  static long intervalMicros(Limit limit) {
    return Math.max(1, Math.round(1e6 / limit.ratePerSec()));
  }

  /** Tokens one lease asks for: a tenth of a second of the rate, at least 1, at most half the capacity. */
  static int leaseSize(Limit limit) {
    long byRate = (long) Math.ceil(limit.ratePerSec() * LEASE_NANOS / 1e9);
    long cap = Math.max(1, limit.capacity() / 2);
    return (int) Math.max(1, Math.min(Math.min(byRate, cap), 100_000));
  }

  /** Redis did not answer for this lease: its waiters are decided as {@code failure_mode} says. */
  private void unanswered(Lease lease, Deliveries out) {
    List<Waiter> waiting;
    synchronized (lease) {
      lease.refilling = false;
      waiting = new ArrayList<>(lease.waiters);
      lease.waiters.clear();
    }
    for (Waiter w : waiting) {
      decideWithout(modeFor(failureMode), lease.client, w.out);
      out.add(w);
    }
  }

  /** Redis granted this lease {@code grant}: waiters are served from it, refused when the bucket is dry. */
  private void answered(Lease lease, int want, Grant grant, Deliveries out) {
    metrics.leased(grant.granted());
    int again = 0;
    Executor askFrom = null;
    synchronized (lease) {
      long t = nanoTime.getAsLong();
      lease.refilling = false;
      lease.tokens += grant.granted();
      lease.remaining = grant.remaining();
      lease.fullAt = t + grant.resetMicros() * 1000;
      lease.credit = (int) Math.min(MAX_CREDIT, grant.remaining() / (2L * Math.max(1, replicas)));
      boolean asked = !lease.waiters.isEmpty();
      boolean dry = grant.granted() < want || grant.remaining() == 0;
      if (grant.granted() == 0 && asked) {
        lease.refusedUntil = t + Math.max(1, grant.retryMicros()) * 1000;
      } else if (dry && asked) {
        // The shared bucket ran dry with this grant: the next token comes when the bucket is one short of full.
        long interval = intervalMicros(lease.limit);
        lease.refusedUntil = t + Math.max(1, grant.resetMicros() - (lease.limit.capacity() - 1) * interval) * 1000;
      }
      while (!lease.waiters.isEmpty() && lease.tokens > 0) {
        Waiter w = lease.waiters.remove(0);
        lease.tokens--;
        allow(lease, w.out, t);
        out.add(w);
      }
      if (!lease.waiters.isEmpty()) {
        if (dry) {
          for (Waiter w : lease.waiters) {
            refuse(lease, w.out, t);
            out.add(w);
          }
          lease.waiters.clear();
        } else {
          // More waited than this lease held, and the bucket has more: ask again for them.
          lease.refilling = true;
          again = Math.max(leaseSize(lease.limit), lease.waiters.size());
          askFrom = lease.waiters.get(0).executor;
        }
      }
    }
    if (askFrom != null) {
      batchFor(askFrom).add(lease, lease.limit, again);
    }
  }

  private static void allow(Lease lease, Decision out, long t) {
    out.set(true, lease.limit.capacity(), lease.remaining + lease.tokens, Math.max(0, lease.fullAt - t), 0);
  }

  private static void refuse(Lease lease, Decision out, long t) {
    out.set(false, lease.limit.capacity(), 0, Math.max(0, lease.fullAt - t), Math.max(0, lease.refusedUntil - t));
  }

  private static Mode modeFor(RateLimitConfig.FailureMode failureMode) {
    return switch (failureMode) {
      case LOCAL -> Mode.LOCAL;
      case OPEN -> Mode.OPEN;
      case CLOSED -> Mode.CLOSED;
    };
  }

  /** Decides without Redis, as {@code failure_mode} says. */
  private void decideWithout(Mode now, String clientKey, Decision out) {
    switch (now) {
      case OPEN -> out.set(true, 0, 0, 0, 0);
      case CLOSED -> out.setUnavailable();
      default -> {
        Limit full = registry.limitOf(clientKey);
        int n = Math.max(1, replicas);
        Limit share = new Limit(Math.max(1, full.capacity() / n), full.ratePerSec() / n);
        long t = nanoTime.getAsLong();
        TokenBucket bucket = fallback.computeIfAbsent(clientKey, k -> localBucket(k, full, share, n, t));
        if (!bucket.limit().equals(share)) {
          bucket.reconfigure(share, t);
        }
        bucket.tryAcquire(t, out);
      }
    }
  }

  /**
   * A client's local bucket for an outage: full when nothing is known of it, else holding what this replica's lease
   * held plus its share of what Redis last said was left (refilled since, less what credit spent), so that one slow
   * answer does not hand every replica a full bucket the client just emptied.
   */
  private TokenBucket localBucket(String client, Limit full, Limit share, int replicas, long t) {
    TokenBucket bucket = new TokenBucket(share, t);
    Lease lease = leases.get(client);
    if (lease != null) {
      synchronized (lease) {
        if (lease.fullAt != 0) {
          double shared = lease.fullAt - t > 0
              ? full.capacity() - (lease.fullAt - t) / 1e9 * full.ratePerSec() : full.capacity();
          bucket.setTokens(lease.tokens + Math.max(0, shared - lease.debt) / replicas, t);
        }
      }
    }
    return bucket;
  }

  private void redisFailed(Throwable failure) {
    Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
        ? failure.getCause() : failure;
    String why = cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
    synchronized (this) {
      if (mode != Mode.REDIS) {
        return;
      }
      lastFailure = why;
      fallback.clear();
      mode = modeFor(failureMode);
    }
    log.warn("rate limit: Redis does not answer ({}); deciding {} until it does", why, switch (failureMode) {
      case LOCAL -> "locally with each client's limit divided by " + replicas + " replica(s)";
      case OPEN -> "nothing: every request passes (failure_mode: open)";
      case CLOSED -> "nothing: every request is answered 503 (failure_mode: closed)";
    });
  }

  /**
   * The most replicas seen within {@link #REPLICAS_MEMORY_NANOS}: after an outage or a restart of Redis, the first
   * heartbeats see only the replicas that have announced themselves again, and dividing by those would loosen the
   * limit of the next outage.
   */
  private synchronized int rememberReplicas(int seen, long t) {
    if (seen >= replicasMost || t - replicasMostAt > REPLICAS_MEMORY_NANOS) {
      replicasMost = seen;
      replicasMostAt = t;
    }
    return Math.max(1, replicasMost);
  }

  private void redisBack() {
    synchronized (this) {
      if (mode == Mode.REDIS) {
        return;
      }
      // Leases stay: their tokens were taken from Redis and their debts are owed to it. Forgetting them would send
      // every client to Redis at once, which after a single slow answer is a storm of calls for nothing.
      mode = Mode.REDIS;
    }
    log.info("rate limit: Redis answers again; the cluster-wide buckets decide");
  }

  /**
   * Once a second: the heartbeat (which also tells whether Redis is back), the return of tokens held by idle leases,
   * and forgetting leases idle long enough.
   */
  public void tick() {
    call(redis::heartbeat).thenAccept(seen -> {
      replicas = rememberReplicas(seen, nanoTime.getAsLong());
      redisBack();
    });
    if (mode != Mode.REDIS) {
      return;
    }
    long t = nanoTime.getAsLong();
    List<Take> returns = new ArrayList<>();
    for (Lease lease : leases.values()) {
      if (returns.size() >= MAX_TICK_TAKES) {
        break; // the rest next second: a burst of them would queue the requests' own calls behind it
      }
      synchronized (lease) {
        if (lease.refilling || !lease.waiters.isEmpty()) {
          continue;
        }
        boolean idle = t - lease.lastUsed >= RETURN_AFTER_NANOS;
        boolean forget = t - lease.lastUsed >= FORGET_AFTER_NANOS;
        int back = idle ? lease.tokens : 0;
        int debt = lease.debt > 0 && (forget || t - lease.debtSince >= DEBT_MAX_AGE_NANOS) ? lease.debt : 0;
        if (back > 0 || debt > 0) {
          returns.add(new Take(lease.client, lease.limit, 0, back, debt, (t - lease.debtAt) / 1000));
          lease.tokens -= back;
          lease.debt -= debt;
        } else if (forget && lease.tokens == 0 && lease.debt == 0) {
          leases.remove(lease.client, lease);
        }
      }
    }
    inBatches(returns, part -> {
      int returned = part.stream().mapToInt(Take::back).sum();
      call(() -> redis.takeAll(part)).thenRun(() -> metrics.returned(returned));
    });
  }

  @Override
  public void close() {
    ScheduledExecutorService t = timer;
    if (t != null) {
      t.shutdownNow();
    }
  }
}
