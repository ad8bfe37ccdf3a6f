package dev.lb.health.probe;

import static java.util.Objects.requireNonNull;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendHealth;
import dev.lb.config.BackendTlsConfig;
import dev.lb.config.HealthCheckConfig;
import dev.lb.tls.ClientTls;
import dev.lb.transport.FailureReasons;
import dev.lb.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslHandler;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Active health checks: every {@code interval}, each backend is sent {@code GET <path>} on a new connection, from this
 * checker's own one-thread event loop group (never the proxy's workers), over TLS to an {@code https} backend. A 2xx
 * or 3xx answer within {@code timeout} passes; anything else fails, with a reason: the status, {@code timeout},
 * {@code connection refused}, {@code TLS handshake failed: ...}, and so on. The
 * results feed each backend's {@link BackendHealth}. Probes of one backend never overlap; the first probes are spread
 * over the first interval so that backends are not all probed at once.
 */
public final class ActiveHealthChecker implements AutoCloseable {
  private final List<Backend> backends;
  private final HealthCheckConfig config;
  private final EventLoopGroup group;
  private final boolean ownsGroup;
  private final Bootstrap bootstrap;
  /** Each probed backend's schedule (guarded by this). */
  private final java.util.Map<Backend, ScheduledFuture<?>> schedules = new java.util.IdentityHashMap<>();
  private boolean closed;

  public ActiveHealthChecker(
      List<Backend> backends,
      HealthCheckConfig config,
      Transport transport,
      @Nullable AddressResolverGroup<InetSocketAddress> resolver) {
    this(backends, config, transport, resolver, transport.newGroup(1, "lb-health"), true);
  }

  /** A checker that probes from {@code group}, which it does not shut down when closed. */
  public ActiveHealthChecker(
      List<Backend> backends,
      HealthCheckConfig config,
      Transport transport,
      @Nullable AddressResolverGroup<InetSocketAddress> resolver,
      EventLoopGroup group) {
    this(backends, config, transport, resolver, group, false);
  }

  private ActiveHealthChecker(
      List<Backend> backends,
      HealthCheckConfig config,
      Transport transport,
      @Nullable AddressResolverGroup<InetSocketAddress> resolver,
      EventLoopGroup group,
      boolean ownsGroup) {
    this.backends = List.copyOf(backends);
    this.config = requireNonNull(config, "config");
    this.group = requireNonNull(group, "group");
    this.ownsGroup = ownsGroup;
    this.bootstrap = new Bootstrap()
        .group(group)
        .channel(transport.socketChannel())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, config.timeout().toMillis()));
    if (resolver != null) {
      bootstrap.resolver(resolver);
    }
  }

  /** Starts probing. */
  public synchronized void start() {
    long interval = config.interval().toNanos();
    for (Backend backend : backends) {
      schedule(backend, ThreadLocalRandom.current().nextLong(Math.max(1, interval)));
    }
  }

  /**
   * Starts probing a backend that joined (found in DNS): its first probe goes now, so that a backend waiting for it
   * takes traffic as soon as it passes.
   */
  public synchronized void add(Backend backend) {
    if (!closed && !schedules.containsKey(backend)) {
      schedule(backend, 0);
    }
  }

  /** Stops probing a backend that left. */
  public synchronized void remove(Backend backend) {
    ScheduledFuture<?> s = schedules.remove(backend);
    if (s != null) {
      s.cancel(false);
    }
  }

  private void schedule(Backend backend, long firstNanos) {
    Probe probe = new Probe(backend);
    schedules.put(backend, group.next().scheduleAtFixedRate(probe::start, firstNanos, config.interval().toNanos(),
        TimeUnit.NANOSECONDS));
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      for (ScheduledFuture<?> s : schedules.values()) {
        s.cancel(false);
      }
      schedules.clear();
    }
    if (ownsGroup) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
  }

  /** Where a probe's handler reports how the probe went; the probe keeps the first report. */
  interface ProbeResult {
    void settle(boolean passed, String result);
  }

  /** Probes one backend; one probe in flight at a time. Runs on the checker's event loop only. */
  private final class Probe implements ProbeResult {
    private final Backend backend;
    private boolean inFlight;
    private boolean settled;
    private @Nullable Channel channel;
    private @Nullable ScheduledFuture<?> timeout;
    private long startNanos;

    Probe(Backend backend) {
      this.backend = backend;
    }

    void start() {
      if (inFlight || backend.health().admin() == BackendHealth.Admin.MAINT) {
        // One probe at a time; none while the operator holds the backend in maintenance.
        return;
      }
      inFlight = true;
      settled = false;
      startNanos = System.nanoTime();
      timeout = group.next().schedule(() -> settle(false, "timeout after " + config.timeout().toMillis() + " ms"),
          config.timeout().toNanos(), TimeUnit.NANOSECONDS);
      @Nullable BackendTlsConfig tls = backend.tls();
      // An https backend is probed over TLS with the context its requests use: a probe passes only when a request
      // could get through, the handshake and the certificate's verification included.
      @Nullable SslHandler ssl = tls == null ? null : tls.client().newHandler(ByteBufAllocator.DEFAULT,
          backend.tlsName(), backend.port(), config.timeout().toMillis());
      Bootstrap b = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
        @Override
        protected void initChannel(Channel ch) {
          if (ssl != null) {
            ch.pipeline().addLast(ssl);
          }
          ch.pipeline().addLast(new HttpClientCodec(), new ProbeHandler(Probe.this));
        }
      });
      ChannelFuture tcp = b.connect(backend.address());
      ChannelFuture connecting = ssl == null ? tcp : ClientTls.handshaken(tcp, ssl);
      channel = connecting.channel();
      connecting.addListener(f -> {
        if (!f.isSuccess()) {
          settle(false, FailureReasons.describe(f.cause()));
        } else if (!settled) {
          connecting.channel().writeAndFlush(request());
        }
      });
    }

    private FullHttpRequest request() {
      FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, config.path());
      req.headers()
          .set(HttpHeaderNames.HOST, backend.host().indexOf(':') >= 0
              ? "[" + backend.host() + "]:" + backend.port() : backend.host() + ":" + backend.port())
          .set(HttpHeaderNames.USER_AGENT, "lb-health-check")
          .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
          .set(HttpHeaderNames.CONTENT_LENGTH, 0);
      return req;
    }

    /** Records the probe's result once, and ends it. */
    @Override
    public void settle(boolean passed, String result) {
      if (settled) {
        return;
      }
      settled = true;
      inFlight = false;
      ScheduledFuture<?> t = timeout;
      if (t != null) {
        t.cancel(false);
      }
      Channel ch = channel;
      if (ch != null) {
        ch.close();
      }
      backend.meters().healthCheck(passed);
      long took = System.nanoTime() - startNanos;
      if (passed) {
        backend.health().probePassed(result, took);
      } else {
        backend.health().probeFailed(result, took);
      }
    }
  }

  /** Reads the probe's response status; everything read is released. */
  static final class ProbeHandler extends ChannelInboundHandlerAdapter {
    private final ProbeResult probe;

    ProbeHandler(ProbeResult probe) {
      this.probe = probe;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof HttpResponse) {
          HttpResponse res = (HttpResponse) msg;
          if (res.decoderResult().isFailure()) {
            probe.settle(false, "bad response");
            return;
          }
          int code = res.status().code();
          if (code >= 100 && code < 200) {
            return;
          }
          probe.settle(code >= 200 && code < 400, "status " + code);
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      probe.settle(false, "connection closed before a response");
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      probe.settle(false, FailureReasons.describe(cause));
    }
  }
}
