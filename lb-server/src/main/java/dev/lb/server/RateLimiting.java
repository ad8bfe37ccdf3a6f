package dev.lb.server;

import dev.lb.config.LbConfig;
import dev.lb.config.RateLimitConfig;
import dev.lb.metrics.ProxyMetrics;
import dev.lb.ratelimit.BucketLevel;
import dev.lb.ratelimit.CidrSet;
import dev.lb.ratelimit.ClientKeys;
import dev.lb.ratelimit.Limit;
import dev.lb.ratelimit.LimitRegistry;
import dev.lb.ratelimit.LocalRateLimiter;
import dev.lb.ratelimit.RateLimitHandler;
import dev.lb.ratelimit.StoreException;
import dev.lb.server.limits.ClientLimits;
import dev.lb.server.limits.JdbcLimitStore;
import dev.lb.server.limits.LimitsService;
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
final class RateLimiting implements AutoCloseable {
  private static final Logger log = LogManager.getLogger(RateLimiting.class);
  /** Most bucket levels saved on drain. */
  static final int MAX_SAVED_LEVELS = 100_000;

  private final LimitRegistry registry;
  private final LimitsService service;
  private final @Nullable LocalRateLimiter limiter;
  private final @Nullable Supplier<ChannelHandler> handlers;

  private RateLimiting(LimitRegistry registry, LimitsService service, @Nullable LocalRateLimiter limiter,
      @Nullable Supplier<ChannelHandler> handlers) {
    this.registry = registry;
    this.service = service;
    this.limiter = limiter;
    this.handlers = handlers;
  }

  /**
   * Opens the store and loads the limits when rate limiting is on.
   *
   * @throws StoreException when the store cannot be reached (one line naming the cause)
   */
  static RateLimiting start(LbConfig config, ProxyMetrics metrics) throws StoreException {
    RateLimitConfig rl = config.rateLimit();
    Map<String, Limit> configured = new HashMap<>();
    for (RateLimitConfig.ClientLimit c : rl.clients()) {
      configured.put(c.clientId(), new Limit(c.capacity(), c.ratePerSec()));
    }
    LimitRegistry registry = new LimitRegistry(
        new Limit(rl.defaultLimit().capacity(), rl.defaultLimit().ratePerSec()), configured);
    if (!rl.enabled()) {
      return new RateLimiting(registry, new LimitsService(registry, null, config.store().pollInterval()), null, null);
    }
    JdbcLimitStore store = JdbcLimitStore.open(config.store());
    LimitsService service = new LimitsService(registry, store, config.store().pollInterval());
    try {
      service.start();
    } catch (StoreException e) {
      service.close();
      throw e;
    }
    LocalRateLimiter limiter = new LocalRateLimiter(registry);
    List<BucketLevel> saved = List.copyOf(service.restoreLevels());
    int restored = limiter.restore(saved, Instant.now());
    if (!saved.isEmpty()) {
      log.info("restored {} of {} saved bucket levels", restored, saved.size());
    }
    ClientKeys keys = new ClientKeys(rl.clientKey(), CidrSet.parse(rl.trustedProxies()));
    boolean headers = rl.headers();
    Runnable refused = metrics.rateLimited()::increment;
    return new RateLimiting(registry, service, limiter,
        () -> new RateLimitHandler(limiter, keys, headers, refused));
  }

  /** Makes the handler for the pipeline's rate-limit slot, or null when rate limiting is off. */
  @Nullable Supplier<ChannelHandler> handlers() {
    return handlers;
  }

  /** What the {@code /clients} API reads and writes. */
  ClientLimits clientLimits() {
    return service;
  }

  /** Saves the levels of the non-full buckets of clients the store knows; for the end of a drain. */
  void saveLevels() {
    LocalRateLimiter l = limiter;
    if (l != null) {
      service.saveLevels(l.levels(registry.apiClients(), MAX_SAVED_LEVELS, Instant.now()));
    }
  }

  @Override
  public void close() {
    if (limiter != null) {
      limiter.close();
    }
    service.close();
  }
}
