package dev.lb.server.demo;

import static java.util.Objects.requireNonNull;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * A demo backend: an HTTP/1.1 server answering every request with JSON naming itself (see {@link
 * DemoBackendHandler}). Several may share one event loop group, which the caller owns: {@link #close()} closes this
 * backend's listener and connections, not the group.
 */
public final class DemoBackend implements AutoCloseable {
  private static final Logger LOG = LogManager.getLogger(DemoBackend.class);

  private final String name;
  private final Channel listener;
  private final ChannelGroup connections;
  private final InetSocketAddress localAddress;
  private final AtomicBoolean closed = new AtomicBoolean();

  private DemoBackend(String name, Channel listener, ChannelGroup connections) {
    this.name = name;
    this.listener = listener;
    this.connections = connections;
    this.localAddress = (InetSocketAddress) listener.localAddress();
  }

  /**
   * Binds a demo backend and returns once it accepts connections.
   *
   * @param port 0 picks a free port
   * @param name how the backend names itself in every answer
   * @param group runs the listener and its connections; epoll or NIO, the matching channel type is used
   * @throws IllegalStateException if the address cannot be bound; the message names the address and the cause
   */
  public static DemoBackend start(String host, int port, String name, EventLoopGroup group) {
    requireNonNull(host, "host");
    requireNonNull(name, "name");
    requireNonNull(group, "group");
    ChannelGroup connections = new DefaultChannelGroup("demo-" + name, GlobalEventExecutor.INSTANCE);
    ChannelFuture bound =
        new ServerBootstrap()
            .group(group)
            .channel(serverChannelFor(group))
            .option(ChannelOption.SO_REUSEADDR, true)
            .childHandler(new DemoBackendInitializer(name, connections))
            .bind(host, port)
            .awaitUninterruptibly();
    if (!bound.isSuccess()) {
      Throwable cause = bound.cause();
      throw new IllegalStateException(
          "demo backend " + name + ": cannot bind " + host + ":" + port + ": " + cause.getMessage(), cause);
    }
    DemoBackend backend = new DemoBackend(name, bound.channel(), connections);
    LOG.info("Demo backend {} on {}", name, backend.localAddress);
    return backend;
  }

  /** The server channel type that the group's event loops can run. */
  private static Class<? extends ServerChannel> serverChannelFor(EventLoopGroup group) {
    if (group instanceof IoEventLoopGroup io) {
      if (io.isIoType(io.netty.channel.uring.IoUringIoHandler.class)) {
        return io.netty.channel.uring.IoUringServerSocketChannel.class;
      }
      if (io.isIoType(EpollIoHandler.class)) {
        return EpollServerSocketChannel.class;
      }
    }
    return NioServerSocketChannel.class;
  }

  public String name() {
    return name;
  }

  /** The bound address; with port 0, the port picked. */
  public InetSocketAddress localAddress() {
    return localAddress;
  }

  /**
   * Stops accepting and closes this backend's open connections, waiting for both. Idempotent; does nothing once the
   * group is shutting down, since that closes them anyway.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true) || listener.eventLoop().isShuttingDown()) {
      return;
    }
    listener.close().syncUninterruptibly();
    connections.close().awaitUninterruptibly();
  }
}
