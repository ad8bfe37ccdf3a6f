package dev.lb.server;

import dev.lb.config.LbConfig;
import dev.lb.config.RateLimitConfig;
import dev.lb.metrics.ProxyMetrics;
import dev.lb.stats.ProxyStats;
import dev.lb.server.cluster.ClusterMetrics;
import dev.lb.server.cluster.ClusterRateLimiter;
import dev.lb.server.cluster.LettuceGcra;
import dev.lb.ratelimit.BucketLevel;
import dev.lb.ratelimit.CidrSet;
import dev.lb.ratelimit.ClientLimit;
import dev.lb.ratelimit.ClientKeys;
import dev.lb.ratelimit.Limit;
import dev.lb.ratelimit.LimitRegistry;
import dev.lb.ratelimit.LocalRateLimiter;
import dev.lb.proxy.RateLimitHandler;
import dev.lb.ratelimit.StoreException;
import dev.lb.server.limits.ClientLimits;
import dev.lb.server.limits.JdbcLimitStore;
import dev.lb.server.limits.LimitsService;
import dev.lb.server.limits.StoreUnavailableException;
import io.netty.channel.ChannelHandler;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jspecify.annotations.Nullable;

/**
 * Rate limiting assembled from the configuration: the registry of limits, the store and the service that keeps the
 * registry in step with it (and with other replicas), the local limiter, and the per-connection handler. With
 * {@code rate_limit.enabled: false} only the registry exists (the API lists configured clients and refuses writes),
 * and no store is opened.
 */
final class RateLimiting implements ClientLimits, AutoCloseable {
  private static final Logger log = LogManager.getLogger(RateLimiting.class);
  /** Most bucket levels saved on drain. */
  static final int MAX_SAVED_LEVELS = 100_000;

  private final LimitRegistry registry;
  private final ProxyMetrics metrics;
  private final ProxyStats stats;
  /** The rate_limit section lb started with: its scope and Redis hold until a restart. */
  private RateLimitConfig startScope = RateLimitConfig.defaults();
  private volatile LimitsService service;
  private volatile @Nullable LocalRateLimiter limiter;
  /** With {@code scope: cluster}: the limiter that decides (the local one only restores and saves levels). */
  private volatile @Nullable ClusterRateLimiter cluster;
  private volatile @Nullable LettuceGcra redis;
  private volatile @Nullable Supplier<ChannelHandler> handlers;

  private RateLimiting(LimitRegistry registry, ProxyMetrics metrics, ProxyStats stats, LimitsService service) {
    this.registry = registry;
    this.metrics = metrics;
    this.stats = stats;
    this.service = service;
  }

  /**
   * Opens the store and loads the limits when rate limiting is on.
   *
   * @throws StoreException when the store cannot be reached (one line naming the cause)
   */
  static RateLimiting start(LbConfig config, ProxyMetrics metrics, ProxyStats stats) throws StoreException {
    RateLimitConfig rl = config.rateLimit();
    LimitRegistry registry = new LimitRegistry(defaultLimit(rl), configured(rl));
    registry.upstreamDefaults(upstreamLimits(config));
    RateLimiting r = new RateLimiting(registry, metrics, stats,
        new LimitsService(registry, null, config.store().pollInterval()));
    r.startScope = rl;
    if (rl.enabled()) {
      r.enable(config);
      if (rl.scope() == RateLimitConfig.Scope.CLUSTER) {
        r.startCluster(rl);
      }
      r.handlers = r.handlerMaker(rl);
    }
    return r;
  }

  /** Connects to Redis (waiting a little, at start only) and starts the cluster-wide limiter. */
  private void startCluster(RateLimitConfig rl) {
    LettuceGcra gcra = LettuceGcra.connect(rl.redis(), REDIS_CONNECT_WAIT);
    java.util.concurrent.ScheduledExecutorService timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
        task -> {
          Thread t = new Thread(task, "lb-ratelimit-cluster");
          t.setDaemon(true);
          return t;
        });
    redis = gcra;
    cluster = new ClusterRateLimiter(registry, gcra, rl.redis().failureMode(), System::nanoTime,
        new ClusterMetrics(metrics.registry()), timer);
    log.info("rate limit: one bucket per client across the cluster, in Redis at {} (timeout {} ms, failure_mode {})",
        LettuceGcra.safe(rl.redis().url()), rl.redis().timeout().toMillis(),
        rl.redis().failureMode().name().toLowerCase(java.util.Locale.ROOT));
  }

  /** How long lb's start waits for Redis before going on with {@code failure_mode}. */
  static final java.time.Duration REDIS_CONNECT_WAIT = java.time.Duration.ofSeconds(3);

  private static Limit defaultLimit(RateLimitConfig rl) {
    return new Limit(rl.defaultLimit().capacity(), rl.defaultLimit().ratePerSec());
  }

  private static Map<String, Limit> configured(RateLimitConfig rl) {
    Map<String, Limit> out = new HashMap<>();
    for (RateLimitConfig.ClientLimit c : rl.clients()) {
      out.put(c.clientId(), new Limit(c.capacity(), c.ratePerSec()));
    }
    return out;
  }

  /** Opens the store, loads it, and restores saved bucket levels. */
  private void enable(LbConfig config) throws StoreException {
    JdbcLimitStore store = JdbcLimitStore.open(config.store());
    LimitsService next = new LimitsService(registry, store, config.store().pollInterval());
    try {
      next.start();
    } catch (StoreException e) {
      next.close();
      throw e;
    }
    LocalRateLimiter local = new LocalRateLimiter(registry);
    List<BucketLevel> saved = List.copyOf(next.restoreLevels());
    int restored = local.restore(saved, Instant.now());
    if (!saved.isEmpty()) {
      log.info("restored {} of {} saved bucket levels", restored, saved.size());
    }
    LimitsService previous = service;
    service = next;
    limiter = local;
    previous.close();
  }

  private Supplier<ChannelHandler> handlerMaker(RateLimitConfig rl) {
    ClusterRateLimiter shared = cluster;
    dev.lb.ratelimit.RateLimiter local = shared != null ? shared : java.util.Objects.requireNonNull(limiter, "limiter");
    ClientKeys keys = new ClientKeys(rl.clientKey(), CidrSet.parse(rl.trustedProxies()));
    boolean headers = rl.headers();
    io.micrometer.core.instrument.Counter counter = metrics.rateLimited();
    java.util.function.Consumer<String> refused = client -> {
      counter.increment();
      stats.rateLimited(client);
    };
    LimitRegistry limits = registry;
    return () -> new RateLimitHandler(local, keys, headers, refused, limits::hasOwnLimit);
  }

  /**
   * Applies a reload: the default and static limits change at once (buckets of unchanged clients keep going); the
   * client key, trusted proxies, headers and on/off apply to the connections opened from now on. Turning rate
   * limiting on opens the store; if that fails, nothing changes.
   *
   * @throws StoreException when the store must be opened and cannot be
   */
  synchronized void reconfigure(LbConfig next) throws StoreException {
    RateLimitConfig rl = next.rateLimit();
    if (rl.enabled() && limiter == null) {
      enable(next);
      if (startScope.scope() == RateLimitConfig.Scope.CLUSTER && cluster == null) {
        // Scope and Redis are read at start only (a reload names them as needing a restart).
        startCluster(startScope);
      }
    }
    registry.reconfigure(defaultLimit(rl), configured(rl));
    registry.upstreamDefaults(upstreamLimits(next));
    handlers = rl.enabled() ? handlerMaker(rl) : null;
  }

  /** The default limits of upstreams that have one of their own, by upstream name. */
  private static java.util.Map<String, dev.lb.ratelimit.Limit> upstreamLimits(LbConfig config) {
    java.util.Map<String, dev.lb.ratelimit.Limit> out = new java.util.HashMap<>();
    for (dev.lb.config.UpstreamConfig u : config.allUpstreams()) {
      if (u.rateLimit() != null) {
        out.put(u.name(), new dev.lb.ratelimit.Limit(u.rateLimit().capacity(), u.rateLimit().ratePerSec()));
      }
    }
    return out;
  }

  /** Makes the handler for the pipeline's rate-limit slot, or null when rate limiting is off. */
  @Nullable Supplier<ChannelHandler> handlers() {
    return handlers;
  }

  /** Whether requests are limited now (the handler is in new connections' pipelines). */
  boolean enabled() {
    return handlers != null;
  }

  /** The store as the status page shows it ({@link LimitsService#storeStatus()}), and Redis's with the cluster scope. */
  String storeStatus() {
    ClusterRateLimiter shared = cluster;
    if (shared == null) {
      return service.storeStatus();
    }
    String redisState = shared.mode() == ClusterRateLimiter.Mode.REDIS
        ? "redis ok, " + shared.replicas() + " replica(s)"
        : "redis unavailable (" + shared.lastFailure() + "), deciding by failure_mode "
            + shared.mode().name().toLowerCase(java.util.Locale.ROOT);
    return service.storeStatus() + "; " + redisState;
  }

  /** {@code local}, or {@code cluster} while the cluster-wide limiter runs. */
  String scope() {
    return cluster != null ? "cluster" : "local";
  }

  /** What the {@code /clients} API reads and writes: the current service. */
  ClientLimits clientLimits() {
    return this;
  }

  @Override
  public List<ClientLimit> list() {
    return service.list();
  }

  @Override
  public @Nullable ClientLimit get(String clientId) {
    return service.get(clientId);
  }

  @Override
  public @Nullable ClientLimit create(String clientId, Limit limit) throws StoreUnavailableException {
    return service.create(clientId, limit);
  }

  @Override
  public boolean put(String clientId, Limit limit) throws StoreUnavailableException {
    return service.put(clientId, limit);
  }

  @Override
  public boolean delete(String clientId) throws StoreUnavailableException {
    return service.delete(clientId);
  }

  /** Saves the levels of the non-full buckets of clients the store knows; for the end of a drain. */
  void saveLevels() {
    LocalRateLimiter l = limiter;
    if (l != null && cluster == null) {
      service.saveLevels(l.levels(registry.apiClients(), MAX_SAVED_LEVELS, Instant.now()));
    }
  }

  @Override
  public void close() {
    ClusterRateLimiter shared = cluster;
    if (shared != null) {
      shared.close();
    }
    LettuceGcra r = redis;
    if (r != null) {
      r.close();
    }
    LocalRateLimiter l = limiter;
    if (l != null) {
      l.close();
    }
    service.close();
  }
}
