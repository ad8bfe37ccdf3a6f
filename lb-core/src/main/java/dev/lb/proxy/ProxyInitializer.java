package dev.lb.proxy;

import static java.util.Objects.requireNonNull;

import dev.lb.pool.BackendPools;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Assembles the pipeline of every client connection, in one place:
 *
 * <pre>
 * HttpServerCodec -> RequestGuard -> [rate limiter] -> ProxyHandler
 * </pre>
 *
 * <p>Connections over {@code listen.max_connections} are closed as they arrive. Every accepted connection joins the
 * server's channel group, which drain and shutdown walk.
 */
public final class ProxyInitializer extends ChannelInitializer<Channel> {
  /** Request bodies pass on in pieces of at most this many bytes (one read's worth, usually). */
  static final int MAX_CHUNK = 65536;

  private final ProxyContext context;
  private final BackendPools pools;
  private final ChannelGroup clients;
  private final int maxConnections;
  private final @Nullable Supplier<ChannelHandler> rateLimiter;

  /**
   * @param clients the group accepted connections join
   * @param rateLimiter makes the handler for the rate-limit slot, one per connection; null leaves the slot empty
   */
  public ProxyInitializer(
      ProxyContext context,
      BackendPools pools,
      ChannelGroup clients,
      int maxConnections,
      @Nullable Supplier<ChannelHandler> rateLimiter) {
    this.context = requireNonNull(context, "context");
    this.pools = requireNonNull(pools, "pools");
    this.clients = requireNonNull(clients, "clients");
    this.maxConnections = maxConnections;
    this.rateLimiter = rateLimiter;
  }

  @Override
  protected void initChannel(Channel ch) {
    if (clients.size() >= maxConnections) {
      ch.close();
      return;
    }
    clients.add(ch);
    ProxySettings settings = context.settings();
    HttpDecoderConfig decoder = new HttpDecoderConfig()
        .setMaxInitialLineLength(ProxySettings.MAX_REQUEST_LINE)
        .setMaxHeaderSize(settings.maxHeaderSize())
        .setMaxChunkSize(MAX_CHUNK);
    ChannelPipeline p = ch.pipeline();
    p.addLast(HandlerNames.SERVER_CODEC, new HttpServerCodec(decoder));
    p.addLast(HandlerNames.GUARD, new RequestGuard(settings));
    if (rateLimiter != null) {
      p.addLast(HandlerNames.RATE_LIMIT, rateLimiter.get());
    }
    p.addLast(HandlerNames.PROXY, new ProxyHandler(context, pools.forLoop(ch.eventLoop())));
  }
}
