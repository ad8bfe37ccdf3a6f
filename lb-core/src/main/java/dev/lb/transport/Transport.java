package dev.lb.transport;

import static java.util.Objects.requireNonNull;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.Locale;

/**
 * A Netty transport: how event loops are made and which channel classes go with them. {@link #detect()} picks native
 * epoll when its library loads (Linux, x86_64 or aarch64) and NIO otherwise; the system property {@code lb.transport}
 * ({@code epoll} or {@code nio}) forces one.
 */
public final class Transport {
  private static final Transport EPOLL = new Transport(
      "epoll", EpollServerSocketChannel.class, EpollSocketChannel.class, EpollDatagramChannel.class);
  private static final Transport NIO = new Transport(
      "nio", NioServerSocketChannel.class, NioSocketChannel.class, NioDatagramChannel.class);

  private final String name;
  private final Class<? extends ServerChannel> serverChannel;
  private final Class<? extends SocketChannel> socketChannel;
  private final Class<? extends DatagramChannel> datagramChannel;

  private Transport(
      String name,
      Class<? extends ServerChannel> serverChannel,
      Class<? extends SocketChannel> socketChannel,
      Class<? extends DatagramChannel> datagramChannel) {
    this.name = name;
    this.serverChannel = serverChannel;
    this.socketChannel = socketChannel;
    this.datagramChannel = datagramChannel;
  }

  /** The best transport available here, unless the system property {@code lb.transport} names one. */
  public static Transport detect() {
    String forced = System.getProperty("lb.transport", "").trim().toLowerCase(Locale.ROOT);
    switch (forced) {
      case "nio":
        return NIO;
      case "epoll":
        Epoll.ensureAvailability();
        return EPOLL;
      case "":
        return Epoll.isAvailable() ? EPOLL : NIO;
      default:
        throw new IllegalArgumentException("lb.transport: " + forced + " (expected: epoll or nio)");
    }
  }

  /** NIO, which works everywhere. */
  public static Transport nio() {
    return NIO;
  }

  public String name() {
    return name;
  }

  public Class<? extends ServerChannel> serverChannel() {
    return serverChannel;
  }

  public Class<? extends SocketChannel> socketChannel() {
    return socketChannel;
  }

  /**
   * Whether several listening sockets can share one port ({@code SO_REUSEPORT}, the kernel spreading connections
   * over them), so that each event loop accepts the connections it serves.
   */
  public boolean reusePort() {
    return this == EPOLL;
  }

  /** Sets {@code SO_REUSEPORT} on a server bootstrap; for transports that {@link #reusePort()}. */
  public void reusePort(io.netty.bootstrap.ServerBootstrap bootstrap) {
    if (this != EPOLL) {
      throw new UnsupportedOperationException(name + " has no SO_REUSEPORT");
    }
    bootstrap.option(io.netty.channel.epoll.EpollChannelOption.SO_REUSEPORT, true);
  }

  /** For DNS queries. */
  public Class<? extends DatagramChannel> datagramChannel() {
    return datagramChannel;
  }

  /**
   * A new event loop group.
   *
   * @param threads number of event loops; 0 means one per available core
   * @param threadName prefix of the loops' thread names
   */
  public EventLoopGroup newGroup(int threads, String threadName) {
    requireNonNull(threadName, "threadName");
    int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    return new MultiThreadIoEventLoopGroup(n, new DefaultThreadFactory(threadName, true), ioHandlerFactory());
  }

  private IoHandlerFactory ioHandlerFactory() {
    return this == EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
  }

  @Override
  public String toString() {
    return name;
  }
}
