package dev.lb.server.admin;

import static java.util.Objects.requireNonNull;

import dev.lb.config.AdminConfig;
import dev.lb.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The admin listener: serves an {@link AdminRouter} over HTTP/1.1 on its own port, with its own one-thread event loop
 * group ({@code lb-admin}), so that admin traffic and the proxy never share an event loop. Handlers registered as
 * blocking run on the executor given at start, which the caller owns and shuts down after {@link #close()}.
 *
 * <p>Pipeline: {@link io.netty.handler.codec.http.HttpServerCodec}, {@link
 * io.netty.handler.codec.http.HttpServerKeepAliveHandler}, a 64 KiB aggregator, the request handler.
 */
public final class AdminServer implements AutoCloseable {
  private static final Logger LOG = LogManager.getLogger(AdminServer.class);

  private final EventLoopGroup group;
  private final Channel channel;
  private final InetSocketAddress localAddress;
  private final AtomicBoolean closed = new AtomicBoolean();

  private AdminServer(EventLoopGroup group, Channel channel) {
    this.group = group;
    this.channel = channel;
    this.localAddress = (InetSocketAddress) channel.localAddress();
  }

  /**
   * Binds the admin listener to {@code config.host()} and {@code config.port()} (0 picks a free port) and returns
   * once it accepts connections. {@code config.token()} guards the {@link Access#MANAGEMENT} routes.
   *
   * @param blockingExecutor runs the handlers registered with {@link AdminRouter.Builder#routeBlocking}
   * @throws IllegalStateException if the address cannot be bound; the message names the address and the cause
   */
  public static AdminServer start(AdminConfig config, AdminRouter router, Executor blockingExecutor) {
    requireNonNull(config, "config");
    AdminDispatcher dispatcher =
        new AdminDispatcher(router, AccessControl.forToken(config.token()), blockingExecutor);
    Transport transport = Transport.detect();
    EventLoopGroup group = transport.newGroup(1, "lb-admin");
    ChannelFuture bound =
        new ServerBootstrap()
            .group(group)
            .channel(transport.serverChannel())
            .option(ChannelOption.SO_REUSEADDR, true)
            .childHandler(new AdminChannelInitializer(dispatcher))
            .bind(config.host(), config.port())
            .awaitUninterruptibly();
    if (!bound.isSuccess()) {
      group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).awaitUninterruptibly();
      Throwable cause = bound.cause();
      throw new IllegalStateException(
          "admin listener: cannot bind " + config.host() + ":" + config.port() + ": " + cause.getMessage(), cause);
    }
    AdminServer server = new AdminServer(group, bound.channel());
    LOG.debug("Admin listener on {} ({})", server.localAddress, transport);
    return server;
  }

  /** The bound address; with port 0 in the config, the port picked. */
  public InetSocketAddress localAddress() {
    return localAddress;
  }

  /**
   * Stops accepting, closes open admin connections and stops the event loop, waiting for all of it. Answers still
   * being computed by blocking handlers are dropped. Idempotent; must not be called from the admin event loop.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    channel.close().syncUninterruptibly();
    // A short quiet period: admin connections have nothing worth waiting for at shutdown.
    group.shutdownGracefully(10, 2_000, TimeUnit.MILLISECONDS).syncUninterruptibly();
  }
}
