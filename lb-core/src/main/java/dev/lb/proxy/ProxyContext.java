package dev.lb.proxy;

import static java.util.Objects.requireNonNull;

import dev.lb.balance.Routing;
import dev.lb.log.AccessLog;
import dev.lb.metrics.ProxyMetrics;
import dev.lb.stats.ProxyStats;
import dev.lb.upstream.Routes;
import dev.lb.upstream.Upstream;
import io.netty.channel.ChannelHandler;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * What every client connection's handlers share: settings, the backends and balancer, the access log, and whether the
 * server is draining. Parts that change at runtime are immutable values swapped whole, so the hot path reads each
 * with one volatile load and no lock.
 */
public final class ProxyContext {
  private volatile ProxySettings settings;
  private volatile Routes routes;
  private volatile boolean draining;
  private volatile AccessLog accessLog;
  private final ProxyMetrics metrics;
  private final ProxyStats stats;
  private final RetryBudget retryBudget = new RetryBudget();
  private volatile @Nullable Supplier<ChannelHandler> rateLimitHandlers;
  private volatile Frontend frontend = Frontend.PLAIN;

  public ProxyContext(ProxySettings settings, Routing routing, AccessLog accessLog) {
    this(settings, routing, accessLog, ProxyMetrics.disabled());
  }

  public ProxyContext(ProxySettings settings, Routing routing, AccessLog accessLog, ProxyMetrics metrics) {
    this(settings, routing, accessLog, metrics, new ProxyStats());
  }

  public ProxyContext(ProxySettings settings, Routing routing, AccessLog accessLog, ProxyMetrics metrics,
      ProxyStats stats) {
    this(settings, (Routes) null, accessLog, metrics, stats);
    routing(routing);
  }

  /** @param routes where requests go; null: nowhere (404) until {@link #routes(Routes)} sets them */
  public ProxyContext(ProxySettings settings, @Nullable Routes routes, AccessLog accessLog, ProxyMetrics metrics,
      ProxyStats stats) {
    this.stats = requireNonNull(stats, "stats");
    this.settings = requireNonNull(settings, "settings");
    this.accessLog = requireNonNull(accessLog, "accessLog");
    this.metrics = requireNonNull(metrics, "metrics");
    this.routes = routes != null ? routes : Routes.none();
  }

  public ProxyMetrics metrics() {
    return metrics;
  }

  /** What the status page shows of the proxy's traffic. */
  public ProxyStats stats() {
    return stats;
  }

  /** The retries in flight, against their budget. */
  public RetryBudget retryBudget() {
    return retryBudget;
  }

  /** Makes the handler of the rate-limit slot for a new connection; null when rate limiting is off. */
  public @Nullable Supplier<ChannelHandler> rateLimitHandlers() {
    return rateLimitHandlers;
  }

  /** From now on, new connections get their rate-limit handler from here (null: none). */
  public void rateLimitHandlers(@Nullable Supplier<ChannelHandler> value) {
    rateLimitHandlers = value;
  }

  /** Whether new connections are rate limited. */
  public boolean rateLimited() {
    return rateLimitHandlers != null;
  }

  /** What new connections speak: TLS and its certificates, HTTP/2. */
  public Frontend frontend() {
    return frontend;
  }

  public void frontend(Frontend value) {
    frontend = requireNonNull(value, "frontend");
  }

  public ProxySettings settings() {
    return settings;
  }

  public void settings(ProxySettings value) {
    settings = requireNonNull(value, "settings");
  }

  /** Where requests go: the upstreams and the routes that choose among them. */
  public Routes routes() {
    return routes;
  }

  public void routes(Routes value) {
    routes = requireNonNull(value, "routes");
  }

  /** Sends every request to one upstream named {@code default} with these backends (embedded use and tests). */
  public void routing(Routing value) {
    routes = Routes.single(new Upstream("default", value, metrics.none("default")));
  }

  public AccessLog accessLog() {
    return accessLog;
  }

  public void accessLog(AccessLog value) {
    accessLog = requireNonNull(value, "accessLog");
  }

  /** Whether the server is draining: keep-alive ends after the current response. */
  public boolean draining() {
    return draining;
  }

  public void startDraining() {
    draining = true;
  }
}
