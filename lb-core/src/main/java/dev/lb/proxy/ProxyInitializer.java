package dev.lb.proxy;

import static java.util.Objects.requireNonNull;

import dev.lb.pool.BackendPools;
import dev.lb.pool.ConnectionPool;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.codec.http.HttpDecoderConfig;
import dev.lb.tls.ServerTls;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSession;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jspecify.annotations.Nullable;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Assembles the pipeline of every client connection, in one place:
 *
 * <pre>
 * [TLS (SNI) -> ALPN] -> FrontendCodec -> RequestGuard -> ClientTimeouts -> [rate limiter] -> ProxyHandler
 * </pre>
 *
 * <p>or, for HTTP/2 (ALPN {@code h2} over TLS, or the connection preface on a plain listener with {@code listen.h2c}):
 *
 * <pre>
 * [TLS] -> idle timer -> Http2FrameCodec -> Http2ConnectionHandler -> Http2MultiplexHandler
 *   each stream: StreamCodec -> RequestGuard -> ClientTimeouts -> [rate limiter] -> ProxyHandler
 * </pre>
 *
 * <p>The timeouts come after the guard so that they see the requests as it passes them on, refused ones included.
 *
 * <p>Connections over {@code listen.max_connections} are closed as they arrive. Every accepted connection joins the
 * server's channel group, which drain and shutdown walk. Settings and the rate-limit slot are read from the context
 * for each connection, so a reload applies to the connections that come after it.
 */
public final class ProxyInitializer extends ChannelInitializer<Channel> {
  private static final Logger log = LogManager.getLogger(ProxyInitializer.class);
  /** Request bodies pass on in pieces of at most this many bytes (one read's worth, usually). */
  static final int MAX_CHUNK = 65536;
  /** Initial size of a connection's header line buffer. */
  static final int INITIAL_LINE_BUFFER = 64;

  private final ProxyContext context;
  private final Function<EventLoop, ? extends ConnectionPool> pools;
  private final ChannelGroup clients;
  /**
   * Each event loop's idle exchanges, by the loop's pool; a spares object is used only on its loop. (A map rather
   * than a FastThreadLocal: each of those takes a slot in every thread's table for good, and tests make thousands
   * of initializers.)
   */
  private final ConcurrentHashMap<ConnectionPool, Spares> spares = new ConcurrentHashMap<>();
  private final Function<ConnectionPool, Spares> newSpares;
  /** What each connection's guard and timeouts read their settings from; one for every connection. */
  private final Supplier<ProxySettings> settingsSource;
  /** The decoder settings of the last connection, kept while the head size limit stays the same. */
  private volatile DecoderSettings decoder = new DecoderSettings(-1, new HttpDecoderConfig());

  private record DecoderSettings(int maxHeaderSize, HttpDecoderConfig config) {}

  /**
   * @param clients the group accepted connections join
   */
  public ProxyInitializer(ProxyContext context, BackendPools pools, ChannelGroup clients) {
    this(context, requireNonNull(pools, "pools")::forLoop, clients);
  }

  /**
   * @param pools the pool of a connection's event loop (handler tests give embedded ones)
   * @param clients the group accepted connections join
   */
  ProxyInitializer(ProxyContext context, Function<EventLoop, ? extends ConnectionPool> pools, ChannelGroup clients) {
    this.context = requireNonNull(context, "context");
    this.pools = requireNonNull(pools, "pools");
    this.clients = requireNonNull(clients, "clients");
    this.settingsSource = context::settings;
    this.newSpares = pool -> new Spares(this.context, pool);
  }

  /** Decoder settings shared by connections (the codec copies them); remade when a reload changes the head limit. */
  private HttpDecoderConfig decoderConfig(int maxHeaderSize) {
    DecoderSettings current = decoder;
    if (current.maxHeaderSize() != maxHeaderSize) {
      current = new DecoderSettings(maxHeaderSize, new HttpDecoderConfig()
          .setMaxInitialLineLength(ProxySettings.MAX_REQUEST_LINE)
          .setMaxHeaderSize(maxHeaderSize)
          .setMaxChunkSize(MAX_CHUNK)
          // The line buffer grows to the longest line seen; starting small keeps idle connections small.
          .setInitialBufferSize(INITIAL_LINE_BUFFER));
      decoder = current;
    }
    return current.config();
  }

  @Override
  protected void initChannel(Channel ch) {
    ProxySettings settings = context.settings();
    if (clients.size() >= settings.maxConnections()) {
      context.metrics().connectionRefused();
      context.stats().connectionRefused();
      ch.close();
      return;
    }
    context.metrics().connectionAccepted();
    context.stats().connectionAccepted();
    clients.add(ch);
    ChannelPipeline p = ch.pipeline();
    Frontend frontend = context.frontend();
    ServerTls tls = frontend.tls();
    if (tls != null) {
      // The client's hello must come, and the handshake end, within the request header timeout.
      p.addLast(HandlerNames.TLS, tls.newHandler(Math.max(1, settings.headerTimeoutNanos() / 1_000_000)));
      p.addLast(HandlerNames.ALPN, new AlpnHandler(frontend));
    } else if (frontend.h2c()) {
      p.addLast(HandlerNames.PREFACE, new PrefaceSniffer(frontend, settings.headerTimeoutNanos()));
    } else {
      context.metrics().connectionProtocol("http/1.1");
      http1(ch, settings, ClientConnection.PLAIN);
    }
  }

  /** The HTTP/1.x pipeline of a client connection. */
  private void http1(Channel ch, ProxySettings settings, ClientConnection connection) {
    ChannelPipeline p = ch.pipeline();
    p.addLast(HandlerNames.SERVER_CODEC, new FrontendCodec(decoderConfig(settings.maxHeaderSize())));
    p.addLast(HandlerNames.GUARD, new RequestGuard(settingsSource));
    p.addLast(HandlerNames.TIMEOUTS, new ClientTimeouts(settingsSource));
    addRateLimiter(p);
    ConnectionPool pool = pools.apply(ch.eventLoop());
    p.addLast(HandlerNames.PROXY, new ProxyHandler(spares.computeIfAbsent(pool, newSpares), connection));
  }

  private void addRateLimiter(ChannelPipeline p) {
    Supplier<ChannelHandler> rateLimiter = context.rateLimitHandlers();
    if (rateLimiter != null) {
      ChannelHandler limiter = rateLimiter.get();
      if (limiter instanceof RateLimitHandler) {
        ((RateLimitHandler) limiter).routes(context);
      }
      p.addLast(HandlerNames.RATE_LIMIT, limiter);
    }
  }

  /**
   * The HTTP/2 pipeline of a client connection: an idle timer, the frame codec with lb's settings and flood limits,
   * the connection's own handling, and the multiplexer that gives each stream a child channel with
   * {@link #stream the request pipeline}.
   */
  private void http2(Channel ch, Frontend frontend, ClientConnection connection) {
    ProxySettings settings = context.settings();
    ChannelPipeline p = ch.pipeline();
    p.addLast(HandlerNames.H2_IDLE, new IdleStateHandler(0, 0, settings.idleTimeoutNanos(), TimeUnit.NANOSECONDS));
    Http2FrameCodec codec = Http2Codecs.server(frontend.http2(), context.metrics());
    p.addLast(HandlerNames.H2_CODEC, codec);
    p.addLast(HandlerNames.H2_CONNECTION, new Http2ConnectionHandler(codec));
    ConnectionPool pool = pools.apply(ch.eventLoop());
    Spares loopSpares = spares.computeIfAbsent(pool, newSpares);
    p.addLast(HandlerNames.H2_STREAMS, new Http2MultiplexHandler(new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel stream) {
        stream(stream, loopSpares, connection);
      }
    }));
  }

  /** The pipeline of one HTTP/2 stream: one request through the guard, timeouts, rate limiter and proxy handler. */
  private void stream(Channel stream, Spares loopSpares, ClientConnection connection) {
    ChannelPipeline p = stream.pipeline();
    p.addLast(HandlerNames.STREAM_CODEC, new StreamCodec());
    p.addLast(HandlerNames.GUARD, new RequestGuard(settingsSource));
    p.addLast(HandlerNames.TIMEOUTS, new ClientTimeouts(settingsSource));
    addRateLimiter(p);
    p.addLast(HandlerNames.PROXY, new ProxyHandler(loopSpares, connection));
  }

  /**
   * Waits for the TLS handshake, then sets up HTTP/2 or HTTP/1.1 as ALPN chose (HTTP/1.1 when the client offered
   * neither or no ALPN at all). A failed handshake is counted and closes the connection.
   */
  private final class AlpnHandler extends ApplicationProtocolNegotiationHandler {
    private final Frontend frontend;
    private @Nullable String serverName;

    AlpnHandler(Frontend frontend) {
      super(ApplicationProtocolNames.HTTP_1_1);
      this.frontend = frontend;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof SniCompletionEvent) {
        serverName = ((SniCompletionEvent) evt).hostname();
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
      SslHandler ssl = ctx.pipeline().get(SslHandler.class);
      SSLSession session = ssl.engine().getSession();
      boolean h2 = ApplicationProtocolNames.HTTP_2.equals(protocol);
      ClientConnection connection =
          ClientConnection.tls(h2, session.getProtocol(), session.getCipherSuite(), serverName);
      context.metrics().connectionProtocol(h2 ? "h2" : "http/1.1");
      if (h2) {
        http2(ctx.channel(), frontend, connection);
      } else {
        http1(ctx.channel(), context.settings(), connection);
      }
    }

    @Override
    protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
      context.metrics().tlsHandshakeFailed();
      log.debug("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
      ctx.close();
    }
  }

  /**
   * On a plain listener with {@code listen.h2c}: reads the first bytes of a connection and sets up HTTP/2 when they
   * are the HTTP/2 connection preface, HTTP/1.x otherwise; passes them on either way. A connection that sends
   * nothing decisive within the request header timeout is closed.
   */
  private final class PrefaceSniffer extends ByteToMessageDecoder {
    private final Frontend frontend;
    private final long timeoutNanos;
    private io.netty.util.concurrent.@Nullable ScheduledFuture<?> timer;

    PrefaceSniffer(Frontend frontend, long timeoutNanos) {
      this.frontend = frontend;
      this.timeoutNanos = timeoutNanos;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      timer = ctx.executor().schedule(() -> {
        ctx.close();
      }, timeoutNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
      io.netty.util.concurrent.ScheduledFuture<?> t = timer;
      if (t != null) {
        t.cancel(false);
      }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      ByteBuf preface = Http2CodecUtil.connectionPrefaceBuf();
      try {
        int n = Math.min(in.readableBytes(), preface.readableBytes());
        boolean same = ByteBufUtil.equals(in, in.readerIndex(), preface, 0, n);
        if (same && n < preface.readableBytes()) {
          return;   // so far like the preface: wait for more
        }
        if (same) {
          context.metrics().connectionProtocol("h2c");
          http2(ctx.channel(), frontend, ClientConnection.H2C);
        } else {
          context.metrics().connectionProtocol("http/1.1");
          http1(ctx.channel(), context.settings(), ClientConnection.PLAIN);
        }
        ctx.pipeline().remove(this);
      } finally {
        preface.release();
      }
    }
  }
}
