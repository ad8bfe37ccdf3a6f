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
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Assembles the pipeline of every client connection, in one place:
 *
 * <pre>
 * FrontendCodec -> RequestGuard -> ClientTimeouts -> [rate limiter] -> ProxyHandler
 * </pre>
 *
 * <p>The timeouts come after the guard so that they see the requests as it passes them on, refused ones included.
 *
 * <p>Connections over {@code listen.max_connections} are closed as they arrive. Every accepted connection joins the
 * server's channel group, which drain and shutdown walk. Settings and the rate-limit slot are read from the context
 * for each connection, so a reload applies to the connections that come after it.
 */
public final class ProxyInitializer extends ChannelInitializer<Channel> {
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
    p.addLast(HandlerNames.SERVER_CODEC, new FrontendCodec(decoderConfig(settings.maxHeaderSize())));
    p.addLast(HandlerNames.GUARD, new RequestGuard(settingsSource));
    p.addLast(HandlerNames.TIMEOUTS, new ClientTimeouts(settingsSource));
    Supplier<ChannelHandler> rateLimiter = context.rateLimitHandlers();
    if (rateLimiter != null) {
      ChannelHandler limiter = rateLimiter.get();
      if (limiter instanceof RateLimitHandler) {
        ((RateLimitHandler) limiter).routes(context);
      }
      p.addLast(HandlerNames.RATE_LIMIT, limiter);
    }
    ConnectionPool pool = pools.apply(ch.eventLoop());
    p.addLast(HandlerNames.PROXY, new ProxyHandler(spares.computeIfAbsent(pool, newSpares)));
  }
}
