package dev.lb.proxy;

import static java.util.Objects.requireNonNull;

import dev.lb.backend.Backend;
import dev.lb.stats.BackendStats;
import dev.lb.stats.ProxyStats;
import dev.lb.backend.BackendHealth;
import dev.lb.config.LbConfig;
import dev.lb.log.AccessLog;
import dev.lb.metrics.ProxyMetrics;
import dev.lb.pool.BackendPools;
import dev.lb.pool.PoolSettings;
import dev.lb.pool.WaitQueue;
import dev.lb.transport.Transport;
import dev.lb.upstream.DnsMemberFinder;
import dev.lb.upstream.MemberFinder;
import dev.lb.upstream.Upstreams;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import dev.lb.tls.ServerTls;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The proxy listener and everything it runs on: worker event loops that accept and serve client connections and
 * their backend connections (one loop per client connection, its backend connections on the same loop; with
 * SO_REUSEPORT each loop has a listening socket of its own, else a boss loop accepts and hands connections over), the per-loop pools, and the group of open client connections that drain and shutdown walk.
 *
 * <p>Shutdown in the contract's order: {@link #stopAccepting()}, {@link #startDraining()} (keep-alive ends, idle
 * connections close), {@link #awaitConnectionsClosed(Duration)} for the grace period, then {@link #close()}.
 */
public final class ProxyServer implements AutoCloseable {
  private static final org.apache.logging.log4j.Logger log =
      org.apache.logging.log4j.LogManager.getLogger(ProxyServer.class);
  private final Transport transport;
  private final ProxyContext context;
  private volatile LbConfig config;
  /** The acceptor loop, where the transport cannot accept on the worker loops themselves; else null. */
  private final @Nullable EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final DnsAddressResolverGroup resolver;
  private final BackendPools pools;
  private final WaitQueue queue;
  private final EventLoopGroup healthLoop;
  /** Ticks of the stats sampler; on the health loop only. */
  private long statTicks;
  private final ChannelGroup clients;
  private final Upstreams upstreams;
  private final MemberFinder finder;
  /** The listening sockets: one per worker loop with SO_REUSEPORT, else one on the boss loop. */
  private final List<Channel> listeners;
  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
  private final dev.lb.config.FileWatch certificateWatch;

  private ProxyServer(Builder b) throws java.io.IOException {
    LbConfig config = b.config;
    this.config = config;
    this.transport = b.transport;
    ProxySettings settings = ProxySettings.from(config);
    // The certificates first: files that cannot be used fail the start before anything runs.
    Frontend initial = frontend(config, null);
    this.healthLoop = transport.newGroup(1, "lb-health");
    this.context = new ProxyContext(settings, (dev.lb.upstream.Routes) null, b.accessLog, b.metrics, b.stats);
    context.rateLimitHandlers(b.rateLimiter);
    context.frontend(initial);
    this.workers = transport.newGroup(config.listen().workers(), "lb-worker");
    // With SO_REUSEPORT every worker loop accepts on a listener of its own and serves what it accepted, with no
    // hand-off between threads (as HAProxy and nginx do); elsewhere one acceptor loop hands connections over.
    this.boss = acceptOnWorkers(transport) ? null : transport.newGroup(1, "lb-accept");
    this.resolver = new DnsAddressResolverGroup(new DnsNameResolverBuilder()
        .datagramChannelType(transport.datagramChannel())
        .socketChannelType(transport.socketChannel()));
    this.queue = new WaitQueue(settings.queue().maxSize());
    b.metrics.queueLength(queue::size);
    this.pools = new BackendPools(workers, transport.socketChannel(), resolver,
        new PoolSettings(settings.connectTimeoutMillis(), settings.poolIdleTimeoutNanos(), settings.poolMaxIdle()),
        queue);
    this.finder = b.finder != null ? b.finder.apply(healthLoop.next())
        : new DnsMemberFinder((io.netty.channel.EventLoop) healthLoop.next(), transport, config.discovery());
    this.upstreams = new Upstreams(config, b.metrics, pools, transport, resolver, healthLoop, finder,
        context::routes);
    this.clients = new DefaultChannelGroup("lb-clients", GlobalEventExecutor.INSTANCE);
    b.metrics.connections(clients::size);
    ProxyInitializer initializer = new ProxyInitializer(context, pools, clients);
    List<Channel> bound = new ArrayList<>();
    try {
      bind(config, initializer, bound);
    } catch (Exception e) {
      for (Channel ch : bound) {
        ch.close().awaitUninterruptibly();
      }
      upstreams.close();
      if (finder instanceof AutoCloseable closeable) {
        try {
          closeable.close();
        } catch (Exception ignored) {
          // Stopping anyway.
        }
      }
      resolver.close();
      shutdownGroups();
      java.io.IOException named = new java.net.BindException("cannot listen on " + config.listen().host() + ":"
          + config.listen().port() + ": " + e.getMessage());
      named.initCause(e);
      throw named;
    }
    this.listeners = List.copyOf(bound);
    healthLoop.next().scheduleAtFixedRate(this::sampleStats, 1, 1, TimeUnit.SECONDS);
    ServerTls startTls = context.frontend().tls();
    this.certificateWatch = new dev.lb.config.FileWatch("lb-tls-watch", () -> {
      ServerTls tls = context.frontend().tls();
      return tls == null || tls.config().watchInterval().isZero()
          ? null
          : new dev.lb.config.FileWatch.Watched(tls.files(), tls.config().watchInterval(), java.time.Duration.ZERO);
    }, () -> reloadCertificates("certificate files changed"),
        startTls == null ? null : dev.lb.config.FileWatch.signature(startTls.files()));
  }

  /**
   * What the listener speaks for {@code config}: its certificates read now (at start, or a reload).
   *
   * @param current what runs now, whose certificates stay when the files cannot be used; null at start, where that
   *     fails the start
   */
  private Frontend frontend(LbConfig config, @Nullable Frontend current) {
    dev.lb.config.ListenConfig listen = config.listen();
    dev.lb.tls.TlsConfig tlsConfig = listen.tls();
    ServerTls tls = null;
    if (tlsConfig != null && current == null) {
      try {
        tls = ServerTls.load(tlsConfig);
      } catch (ServerTls.TlsException e) {
        throw new IllegalArgumentException(e.getMessage(), e);
      }
    } else if (tlsConfig != null) {
      tls = reread(tlsConfig, current.tls(), "reload");
    }
    return new Frontend(tls, listen.h2c(), listen.http2(), config.shutdown().gracePeriod());
  }

  /**
   * Reads the certificate files again (SIGHUP, {@code POST /reload}, a change on disk): connections accepted from now
   * on get the new certificates, open ones keep theirs; files that cannot be used leave the current ones in place,
   * with a warning saying why.
   */
  public synchronized void reloadCertificates(String why) {
    Frontend current = context.frontend();
    ServerTls tls = current.tls();
    if (tls != null) {
      context.frontend(current.withTls(reread(tls.config(), tls, why)));
    }
  }

  /**
   * The certificates of {@code config} read now, counted and logged; {@code current} when they cannot be used. The
   * watch records the files as read, so that it does not read them again for the same change.
   */
  private @Nullable ServerTls reread(dev.lb.tls.TlsConfig config, @Nullable ServerTls current, String why) {
    try {
      String read = dev.lb.config.FileWatch.signature(config.files());
      ServerTls next = ServerTls.load(config);
      context.metrics().certificateReload(true);
      certificateWatch.seen(read);
      log.info("{}: certificates read: {}", why, next.describe());
      return next;
    } catch (ServerTls.TlsException e) {
      context.metrics().certificateReload(false);
      log.warn("{}: certificate files not usable, the ones in use stay: {}", why, e.getMessage());
      return current;
    }
  }

  /** How the listener speaks to clients, for the start-up line: {@code HTTP/1.1}, h2c, or TLS with its details. */
  public String describeFrontend() {
    Frontend f = context.frontend();
    ServerTls tls = f.tls();
    if (tls != null) {
      return tls.describe();
    }
    return f.h2c() ? "plain HTTP/1.1 and h2c (HTTP/2 prior knowledge)" : "plain HTTP/1.1";
  }

  /** Once a second on the health loop: the per-second rates, and every few seconds the latency windows. */
  private void sampleStats() {
    long now = System.nanoTime();
    context.stats().tick(now, System.currentTimeMillis());
    if (++statTicks % BackendStats.TICK_SECONDS == 0) {
      for (Backend b : upstreams.backends()) {
        b.stats().tick(now);
      }
    }
  }

  /**
   * Idle pooled connections to each backend, counted on each worker loop (the pools belong to them); completes when
   * every loop has answered.
   */
  public java.util.concurrent.CompletableFuture<java.util.Map<Backend, Integer>> idleConnections() {
    return pools.idleCounts();
  }

  /**
   * Whether the worker loops accept themselves: where the transport has SO_REUSEPORT, unless the system property
   * {@code lb.acceptor} is {@code boss} (for measuring one against the other).
   */
  private static boolean acceptOnWorkers(Transport transport) {
    return transport.reusePort() && !"boss".equals(System.getProperty("lb.acceptor", ""));
  }

  /** Binds the listening sockets, adding each to {@code bound} as it is bound. */
  private void bind(LbConfig config, ProxyInitializer initializer, List<Channel> bound) throws Exception {
    String host = config.listen().host();
    int port = config.listen().port();
    EventLoopGroup acceptor = boss;
    if (acceptor != null) {
      bound.add(serverBootstrap(acceptor, workers, initializer).bind(host, port).sync().channel());
      return;
    }
    if (port != 0) {
      // Sockets with SO_REUSEPORT share a port with any other such socket of the same user: a port already in use
      // by another process must still be refused, so it is tried once without the option.
      try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
        probe.setReuseAddress(true);
        probe.bind(new InetSocketAddress(host, port));
      }
    }
    for (var executor : workers) {
      io.netty.channel.EventLoop loop = (io.netty.channel.EventLoop) executor;
      ServerBootstrap bootstrap = serverBootstrap(loop, loop, initializer);
      transport.reusePort(bootstrap);
      Channel ch = bootstrap.bind(host, port).sync().channel();
      bound.add(ch);
      // Port 0: the first listener's port is the one every other loop shares.
      port = ((InetSocketAddress) ch.localAddress()).getPort();
    }
  }

  private ServerBootstrap serverBootstrap(
      EventLoopGroup acceptor, EventLoopGroup children, ProxyInitializer initializer) {
    return new ServerBootstrap()
        .group(acceptor, children)
        .channel(transport.serverChannel())
        .option(ChannelOption.SO_BACKLOG, 4096)
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.SO_KEEPALIVE, true)
        // One allocator for every client connection (its per-connection handle stays), instead of one each.
        .childOption(ChannelOption.RCVBUF_ALLOCATOR, RECEIVE_ALLOCATOR)
        .childHandler(initializer);
  }

  private static final AdaptiveRecvByteBufAllocator RECEIVE_ALLOCATOR = new AdaptiveRecvByteBufAllocator();

  /**
   * Applies a new configuration without closing any client connection (a reload): backends added, removed or
   * re-weighted (those that stay keep their health, counters and pooled connections; requests in flight on removed
   * ones finish), the balancing algorithm, health-check settings (the prober restarts), timeouts, retries, limits
   * and pool settings. Settings read when a connection opens (the request head size limit) apply to new
   * connections. Listener address and worker count are not changed here: they need a restart.
   */
  public synchronized void reconfigure(LbConfig next) {
    ProxySettings settings = ProxySettings.from(next);
    context.settings(settings);
    context.frontend(frontend(next, context.frontend()));
    queue.maxSize(settings.queue().maxSize());
    pools.settings(new PoolSettings(settings.connectTimeoutMillis(), settings.poolIdleTimeoutNanos(),
        settings.poolMaxIdle()));
    upstreams.apply(next);
    this.config = next;
  }

  /**
   * Sets every backend {@code READY} again (what the admin API's drain and maintenance set lasts until a reload
   * reads the configuration again, as a restart would): a backend leaving maintenance comes back through its health
   * checks, one leaving a drain through slow start.
   */
  public void readyAll(String reason) {
    for (Backend b : upstreams.backends()) {
      b.health().admin(BackendHealth.Admin.READY, reason);
    }
  }

  /** Starts building a server for this configuration. */
  public static Builder builder(LbConfig config) {
    return new Builder(config);
  }

  /** Options of a {@link ProxyServer}. */
  public static final class Builder {
    private final LbConfig config;
    private Transport transport = Transport.detect();
    private AccessLog accessLog = AccessLog.DISABLED;
    private ProxyMetrics metrics = ProxyMetrics.disabled();
    private @Nullable Supplier<ChannelHandler> rateLimiter;
    private ProxyStats stats = new ProxyStats();
    private java.util.function.@Nullable Function<io.netty.channel.EventLoop, MemberFinder> finder;

    private Builder(LbConfig config) {
      this.config = requireNonNull(config, "config");
    }

    public Builder transport(Transport value) {
      this.transport = requireNonNull(value, "transport");
      return this;
    }

    public Builder accessLog(AccessLog value) {
      this.accessLog = requireNonNull(value, "accessLog");
      return this;
    }

    public Builder metrics(ProxyMetrics value) {
      this.metrics = requireNonNull(value, "metrics");
      return this;
    }

    /** Where the proxy's traffic is counted for the status page (the rate limiter counts its refusals there too). */
    public Builder stats(ProxyStats value) {
      this.stats = requireNonNull(value, "stats");
      return this;
    }

    /** Makes the finder of DNS backends' members, given the health loop it runs on. */
    public Builder memberFinder(java.util.function.Function<io.netty.channel.EventLoop, MemberFinder> value) {
      this.finder = requireNonNull(value, "finder");
      return this;
    }

    /** A maker of the per-connection handler for the rate-limit slot. */
    public Builder rateLimiter(@Nullable Supplier<ChannelHandler> value) {
      this.rateLimiter = value;
      return this;
    }

    /**
     * Binds the listener.
     *
     * @throws java.net.BindException when the listener cannot bind; the message names the address
     */
    public ProxyServer start() throws Exception {
      return new ProxyServer(this);
    }
  }

  /** Where the listener is bound (the real port when the configuration said 0). */
  public InetSocketAddress localAddress() {
    return (InetSocketAddress) listeners.get(0).localAddress();
  }

  public ProxyContext context() {
    return context;
  }

  /** The upstreams: their backends, health and routes. */
  public Upstreams upstreams() {
    return upstreams;
  }

  /** Every backend, upstream by upstream, in configuration order. */
  public List<Backend> backends() {
    return upstreams.backends();
  }

  public Transport transport() {
    return transport;
  }

  /** The worker event loops, for their metrics. */
  public EventLoopGroup workers() {
    return workers;
  }

  /** Number of worker event loops. */
  public int workerCount() {
    int n = 0;
    for (var ignored : workers) {
      n++;
    }
    return n;
  }

  /** Open client connections. */
  public int connections() {
    return clients.size();
  }

  /** Closes the listeners: no new connections. */
  public void stopAccepting() {
    for (Channel ch : listeners) {
      ch.close().awaitUninterruptibly();
    }
  }

  /** Whether each worker loop accepts on a listening socket of its own, rather than one acceptor loop for all. */
  public boolean acceptsOnWorkers() {
    return boss == null;
  }

  /** How many listening sockets accept connections: one per worker loop with SO_REUSEPORT, else one. */
  public int listenerCount() {
    return listeners.size();
  }

  /**
   * From now on keep-alive responses carry {@code Connection: close}; idle connections close now, busy ones after
   * their response.
   */
  public void startDraining() {
    context.startDraining();
    for (Channel ch : clients) {
      ch.pipeline().fireUserEventTriggered(ProxyHandler.DRAIN);
    }
  }

  /**
   * Waits until every client connection closed, or the timeout passed.
   *
   * @return whether all closed in time
   */
  public boolean awaitConnectionsClosed(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!clients.isEmpty()) {
      if (System.nanoTime() - deadline >= 0) {
        return false;
      }
      Thread.sleep(20);
    }
    return true;
  }

  /** Closes the listener, every connection and pool, and shuts the event loops down; waits for that. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    certificateWatch.close();
    upstreams.close();
    if (finder instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        // Closing the resolver's channel: nothing to do about a failure while stopping.
      }
    }
    stopAccepting();
    clients.close().awaitUninterruptibly();
    pools.close();
    resolver.close();
    shutdownGroups();
  }

  private void shutdownGroups() {
    var h = healthLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    h.awaitUninterruptibly();
    EventLoopGroup acceptor = boss;
    var b = acceptor == null ? null : acceptor.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    var w = workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    if (b != null) {
      b.awaitUninterruptibly();
    }
    w.awaitUninterruptibly();
  }
}
