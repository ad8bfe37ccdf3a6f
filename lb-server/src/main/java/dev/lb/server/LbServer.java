package dev.lb.server;

import static java.util.Objects.requireNonNull;

import dev.lb.backend.Backend;
import dev.lb.config.ConfigDiff;
import dev.lb.config.ConfigException;
import dev.lb.config.ConfigLoader;
import dev.lb.config.LbConfig;
import dev.lb.ratelimit.StoreException;
import java.util.List;
import dev.lb.log.AccessLog;
import dev.lb.metrics.ProxyMetrics;
import dev.lb.proxy.ProxyServer;
import dev.lb.server.admin.AdminRouter;
import dev.lb.server.admin.AdminServer;
import dev.lb.server.admin.StatusEndpoint;
import dev.lb.stats.ProxyStats;
import java.time.Instant;
import dev.lb.server.admin.BackendsEndpoint;
import dev.lb.server.admin.UpstreamsEndpoint;
import dev.lb.server.admin.ClientsEndpoint;
import dev.lb.server.admin.MetricsEndpoint;
import dev.lb.server.admin.HealthEndpoints;
import dev.lb.server.admin.Readiness;
import dev.lb.server.admin.ReloadOutcome;
import dev.lb.server.admin.ServerEndpoints;
import dev.lb.transport.Transport;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jspecify.annotations.Nullable;

/**
 * A running balancer: the proxy listener and the admin listener, wired from one configuration, and the drain that
 * stops them in the contract's order (readiness fails, {@code drain_delay}, the listener closes, keep-alive ends,
 * in-flight requests get {@code grace_period}, everything closes).
 */
public final class LbServer implements AutoCloseable {
  private static final Logger log = LogManager.getLogger(LbServer.class);

  private volatile LbConfig config;
  /** What the listeners, workers, store and log format were built from: a reload cannot change those. */
  private final LbConfig started;
  private final java.nio.file.@Nullable Path file;
  private final Metrics metrics = new Metrics();
  private final ProxyMetrics proxyMetrics = new ProxyMetrics(metrics.registry());
  private final ProxyStats stats = new ProxyStats();
  private final Instant startedAt = Instant.now();
  /** 1 at start, one more for each reload that changed something. */
  private volatile long generation = 1;
  private volatile StatusEndpoint.@Nullable LastReload lastReload;
  private final RateLimiting rateLimiting;
  private final ProxyServer proxy;
  private final AdminServer admin;
  private final Readiness readiness = new Readiness();
  private final ExecutorService blocking;
  private final AtomicBoolean stopping = new AtomicBoolean();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean hurry;
  /** What each signal does in this process ({@link Signals}); empty when none is handled (lb run in-process). */
  private volatile Map<String, String> signals = Map.of();
  /** Reloads {@code file} when it changes and {@code config.watch} is on; null without a file. */
  private final dev.lb.config.@Nullable FileWatch configWatch;

  private LbServer(LbConfig config, java.nio.file.@Nullable Path file, Transport transport) throws Exception {
    this.config = requireNonNull(config, "config");
    this.started = config;
    this.file = file;
    this.rateLimiting = RateLimiting.start(config, proxyMetrics, stats);
    this.blocking = Executors.newFixedThreadPool(2, daemonThreads("lb-admin-blocking"));
    try {
      this.proxy = ProxyServer.builder(config)
          .transport(transport)
          .accessLog(AccessLog.log4j(config.logging().accessLog()))
          .metrics(proxyMetrics)
          .stats(stats)
          .rateLimiter(rateLimiting.handlers())
          .start();
      metrics.bindEventLoops(proxy.workers());
    } catch (Exception e) {
      rateLimiting.close();
      blocking.shutdownNow();
      throw e;
    }
    AdminServer adminServer;
    try {
      metrics.bindJvm();
      AdminRouter.Builder routes = AdminRouter.builder();
      HealthEndpoints.register(routes, readiness);
      MetricsEndpoint.register(routes, metrics.registry());
      BackendsEndpoint.register(routes, proxy::backends);
      UpstreamsEndpoint.register(routes, this::config, proxy.upstreams());
      StatusEndpoint.register(routes, statusSource());
      ClientsEndpoint.register(routes, rateLimiting.clientLimits());
      ServerEndpoints.register(routes, this::config, this::signals, file == null ? null : () -> reload(file),
          Map.of("version", Version.get(), "java", Runtime.version().toString(), "transport", transport.toString()));
      adminServer = AdminServer.start(config.admin(), routes.build(), blocking);
    } catch (RuntimeException e) {
      proxy.close();
      rateLimiting.close();
      blocking.shutdownNow();
      throw e;
    }
    this.admin = adminServer;
    this.configWatch = file == null ? null : new dev.lb.config.FileWatch("lb-config-watch", () -> {
      dev.lb.config.ConfigFileConfig c = this.config.configFile();
      return c.watch() ? new dev.lb.config.FileWatch.Watched(List.of(file), c.watchInterval(), c.watchDebounce()) : null;
    }, () -> reload(file), dev.lb.config.FileWatch.signature(List.of(file)));
    log.info("lb {} listening on {} ({}; {}, {} event loops, {}, {}), admin on {}, {}{}",
        Version.get(), hostPort(proxy.localAddress()), proxy.describeFrontend(), transport, proxy.workerCount(),
        proxy.acceptsOnWorkers() ? "each accepting on its own SO_REUSEPORT socket" : "one acceptor loop",
        io.netty.util.internal.PlatformDependent.useDirectBufferNoCleaner()
            ? "direct buffers unzeroed" : "direct buffers zeroed by the JDK (run with java -jar for faster ones)",
        hostPort(admin.localAddress()),
        describeUpstreams(config),
        config.rateLimit().enabled() ? ", rate limited by " + config.rateLimit().clientKey().describe() : "");
  }

  /** The upstreams for the start-up line: {@code backends [..] by algorithm}, or each upstream's and the routes. */
  static String describeUpstreams(LbConfig config) {
    List<String> parts = new java.util.ArrayList<>();
    for (dev.lb.config.UpstreamConfig u : config.allUpstreams()) {
      List<String> members = new java.util.ArrayList<>();
      u.backends().forEach(b -> members.add(b.url()));
      u.dns().forEach(d -> members.add(d.describe()));
      parts.add((config.upstreams().isEmpty() ? "" : u.name() + " ") + "[" + String.join(", ", members) + "] by "
          + u.balancing().algorithm().key());
    }
    if (config.upstreams().isEmpty() && config.routes().isEmpty()) {
      return "backends " + parts.get(0);
    }
    return "upstreams " + String.join("; ", parts) + ", " + config.routes().size() + " route(s)"
        + (config.allUpstreams().stream().anyMatch(u -> u.name().equals(dev.lb.config.UpstreamConfig.DEFAULT))
            ? "" : ", no default upstream: unrouted requests get 404");
  }

  /** What the status page reads. */
  private StatusEndpoint.Source statusSource() {
    return new StatusEndpoint.Source() {
      @Override
      public List<Backend> backends() {
        return proxy.backends();
      }

      @Override
      public java.util.concurrent.CompletableFuture<Map<Backend, Integer>> idleConnections() {
        return proxy.idleConnections();
      }

      @Override
      public ProxyStats stats() {
        return stats;
      }

      @Override
      public StatusEndpoint.Server server() {
        LbConfig now = config;
        return new StatusEndpoint.Server(Version.get(), startedAt, proxy.transport().toString(), proxy.workerCount(),
            file == null ? null : file.toString(), generation, lastReload, proxy.connections(),
            proxy.context().draining() || stopping.get(), rateLimiting.enabled(),
            now.rateLimit().clientKey().describe(), rateLimiting.scope(), rateLimiting.storeStatus(),
            now.healthCheck().slowStart().toNanos(), file != null && now.configFile().watch(), signals);
      }
    };
  }

  /**
   * Starts both listeners.
   *
   * @throws Exception when a listener cannot bind (the message names the address)
   */
  public static LbServer start(LbConfig config) throws Exception {
    return start(config, null);
  }

  /**
   * Starts both listeners for {@code config}, read from {@code file}, which {@code POST /reload} reads again.
   *
   * @throws Exception when a listener cannot bind (the message names the address)
   */
  public static LbServer start(LbConfig config, java.nio.file.@Nullable Path file) throws Exception {
    return new LbServer(config, file, Transport.select(config.listen().transport()));
  }

  private static String hostPort(InetSocketAddress a) {
    return a.getHostString() + ":" + a.getPort();
  }

  public InetSocketAddress proxyAddress() {
    return proxy.localAddress();
  }

  public InetSocketAddress adminAddress() {
    return admin.localAddress();
  }

  public ProxyServer proxy() {
    return proxy;
  }

  public LbConfig config() {
    return config;
  }

  /**
   * Reloads the configuration from a file (SIGHUP, {@code POST /reload}): a file with errors is refused with the same
   * messages as at start and the running configuration stays; otherwise backends, algorithm, health checks, timeouts
   * and limits change without closing client connections. Each reload is logged with what changed; keys that only
   * take effect after a restart (listener and admin addresses, worker count, store, log format) are named when they
   * differ from what the process started with. Any reload that is not refused sets every backend {@code READY}
   * again: what the admin API's drain and maintenance set lasts until the configuration is read again.
   */
  public synchronized ReloadOutcome reload(java.nio.file.Path file) {
    // What is read now, for the file watch not to reload it again (taken before reading: a change in between is
    // then seen, not lost); a refused file counts as read too, so that it is not tried again until it changes.
    String read = dev.lb.config.FileWatch.signature(List.of(file));
    ReloadOutcome outcome = apply(file);
    if (configWatch != null) {
      configWatch.seen(read);
    }
    if (outcome.result().equals("applied")) {
      generation++;
    }
    lastReload = StatusEndpoint.LastReload.of(Instant.now(), outcome);
    return outcome;
  }

  private ReloadOutcome apply(java.nio.file.Path file) {
    LbConfig next;
    try {
      next = ConfigLoader.load(file);
    } catch (ConfigException e) {
      log.error("reload of {} refused, the running configuration stays:\n  {}", file,
          String.join("\n  ", e.errors()));
      proxyMetrics.reload(false);
      return new ReloadOutcome(file.toString(), "refused", List.of(), List.of(), e.errors());
    }
    List<String> changes = ConfigDiff.changes(config, next);
    List<String> later = ConfigDiff.changedUnder(ConfigDiff.changes(started, next), RESTART_ONLY);
    if (changes.isEmpty()) {
      // The certificate files are read again even when their names did not change (a renewed certificate).
      proxy.reloadCertificates("reload of " + file);
      log.info("reload of {}: nothing changed", file);
      proxy.readyAll("configuration reloaded");
      proxyMetrics.reload(true);
      return new ReloadOutcome(file.toString(), "unchanged", List.of(), later, List.of());
    }
    try {
      rateLimiting.reconfigure(next);
    } catch (StoreException e) {
      log.error("reload of {} refused, the running configuration stays: {}", file, e.getMessage());
      proxyMetrics.reload(false);
      return new ReloadOutcome(file.toString(), "refused", changes, later, List.of(e.getMessage()));
    }
    proxy.context().rateLimitHandlers(rateLimiting.handlers());
    proxy.reconfigure(next);
    proxy.context().accessLog(AccessLog.log4j(next.logging().accessLog()));
    proxy.readyAll("configuration reloaded");
    config = next;
    log.info("reload of {}: {} change(s): {}", file, changes.size(), String.join("; ", changes));
    if (!later.isEmpty()) {
      log.warn("reload of {}: these differ from what runs and take effect only after a restart: {}", file,
          String.join("; ", later));
    }
    proxyMetrics.reload(true);
    return new ReloadOutcome(file.toString(), "applied", changes, later, List.of());
  }

  /** Keys a reload records but cannot apply to a running process. */
  static final List<String> RESTART_ONLY = List.of(
      "listen.host", "listen.port", "listen.workers", "listen.transport", "admin", "store", "logging.format",
      "rate_limit.scope", "rate_limit.redis", "discovery");

  /** What each signal does in this process: {@code drain}, {@code reload}, or why it is not handled. */
  public Map<String, String> signals() {
    return signals;
  }

  void signals(Map<String, String> handled) {
    this.signals = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(handled));
  }

  /** Whether {@code /readyz} says ready. */
  public boolean ready() {
    return readiness.ready();
  }

  /**
   * Drains and stops, in the contract's order; returns when everything is closed. A second call while a drain runs
   * cuts the remaining waits short and returns at once.
   */
  public void drainAndStop() throws InterruptedException {
    if (!stopping.compareAndSet(false, true)) {
      if (!hurry) {
        hurry = true;
        log.warn("second stop signal: closing {} connection(s) now instead of waiting for them", proxy.connections());
      }
      return;
    }
    Duration delay = config.shutdown().drainDelay();
    Duration grace = config.shutdown().gracePeriod();
    if (configWatch != null) {
      configWatch.close();   // no reload while draining
    }
    log.info("draining: /readyz answers 503 now; listener closes in {} ms, then in-flight requests get {} ms",
        delay.toMillis(), grace.toMillis());
    readiness.markDraining();
    sleepUnlessHurried(delay);
    proxy.stopAccepting();
    proxy.startDraining();
    boolean clean = awaitUnlessHurried(grace);
    if (!clean && !hurry) {
      log.warn("grace period over: closing {} connections still open", proxy.connections());
    }
    proxy.close();
    rateLimiting.saveLevels();
    try {
      release();
      // Said before awaitStopped returns: the process may exit (and its logging stop) right after that.
      log.info("stopped");
    } finally {
      stopped.countDown();
    }
  }

  private void sleepUnlessHurried(Duration d) throws InterruptedException {
    long deadline = System.nanoTime() + d.toNanos();
    while (!hurry && System.nanoTime() - deadline < 0) {
      Thread.sleep(Math.min(50, Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()))));
    }
  }

  private boolean awaitUnlessHurried(Duration d) throws InterruptedException {
    long deadline = System.nanoTime() + d.toNanos();
    while (!hurry) {
      long left = deadline - System.nanoTime();
      if (proxy.awaitConnectionsClosed(Duration.ofNanos(Math.max(0, Math.min(left, 100_000_000L))))) {
        return true;
      }
      if (left <= 0) {
        return false;
      }
    }
    return proxy.connections() == 0;
  }

  /** Blocks until the server has stopped. */
  public void awaitStopped() throws InterruptedException {
    stopped.await();
  }

  /** Closes everything now, without draining. */
  @Override
  public void close() {
    try {
      release();
    } finally {
      stopped.countDown();
    }
  }

  /** Closes the listeners, the watch, the store and the metrics. */
  private void release() {
    if (configWatch != null) {
      configWatch.close();
    }
    proxy.close();
    admin.close();
    blocking.shutdownNow();
    rateLimiting.close();
    metrics.close();
  }

  static java.util.concurrent.ThreadFactory daemonThreads(String prefix) {
    java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
