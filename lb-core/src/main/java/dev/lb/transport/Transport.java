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
import dev.lb.config.ListenConfig;
import java.util.Locale;

/**
 * A Netty transport: how event loops are made and which channel classes go with them. {@link #select} takes the
 * configured choice; {@code auto} picks io_uring where the kernel allows it (a container's seccomp profile may
 * not), else native epoll when its library loads (Linux, x86_64 or aarch64), else NIO. The system property
 * {@code lb.transport} ({@code io_uring}, {@code epoll} or {@code nio}) overrides the configuration, for tests.
 */
public final class Transport {
  private static final Transport EPOLL = new Transport(
      "epoll", EpollServerSocketChannel.class, EpollSocketChannel.class, EpollDatagramChannel.class);
  private static final Transport NIO = new Transport(
      "nio", NioServerSocketChannel.class, NioSocketChannel.class, NioDatagramChannel.class);
  private static final Transport IO_URING = new Transport(
      "io_uring", io.netty.channel.uring.IoUringServerSocketChannel.class,
      io.netty.channel.uring.IoUringSocketChannel.class, io.netty.channel.uring.IoUringDatagramChannel.class);

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
    return select(ListenConfig.TransportChoice.AUTO);
  }

  /**
   * The configured transport, unless the system property {@code lb.transport} names another.
   *
   * @throws IllegalStateException when the one asked for explicitly cannot run here; the message says why
   */
  public static Transport select(ListenConfig.TransportChoice configured) {
    String forced = System.getProperty("lb.transport", "").trim().toLowerCase(Locale.ROOT);
    ListenConfig.TransportChoice choice = configured;
    if (!forced.isEmpty()) {
      choice = null;
      for (ListenConfig.TransportChoice c : ListenConfig.TransportChoice.values()) {
        if (c.key().equals(forced)) {
          choice = c;
        }
      }
      if (choice == null) {
        throw new IllegalArgumentException("lb.transport: " + forced + " (expected: auto, io_uring, epoll or nio)");
      }
    }
    switch (choice) {
      case NIO:
        return NIO;
      case EPOLL:
        if (!Epoll.isAvailable()) {
          throw new IllegalStateException("transport epoll is not available here: " + Epoll.unavailabilityCause());
        }
        return EPOLL;
      case IO_URING:
        if (!ioUringAvailable()) {
          throw new IllegalStateException("transport io_uring is not available here: " + ioUringUnavailability());
        }
        return IO_URING;
      default:
        if (ioUringAvailable()) {
          return IO_URING;
        }
        return Epoll.isAvailable() ? EPOLL : NIO;
    }
  }

  /** Every transport that can run here, best first: for tests that run on each. */
  public static java.util.List<Transport> available() {
    java.util.List<Transport> list = new java.util.ArrayList<>();
    if (ioUringAvailable()) {
      list.add(IO_URING);
    }
    if (Epoll.isAvailable()) {
      list.add(EPOLL);
    }
    list.add(NIO);
    return list;
  }

  private static boolean ioUringAvailable() {
    try {
      return io.netty.channel.uring.IoUring.isAvailable();
    } catch (LinkageError e) {
      return false;
    }
  }

  private static String ioUringUnavailability() {
    try {
      Throwable cause = io.netty.channel.uring.IoUring.unavailabilityCause();
      return cause == null ? "unknown" : cause.toString();
    } catch (LinkageError e) {
      return e.toString();
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
    return this == EPOLL || this == IO_URING;
  }

  /** Sets {@code SO_REUSEPORT} on a server bootstrap; for transports that {@link #reusePort()}. */
  public void reusePort(io.netty.bootstrap.ServerBootstrap bootstrap) {
    if (this == EPOLL) {
      bootstrap.option(io.netty.channel.epoll.EpollChannelOption.SO_REUSEPORT, true);
    } else if (this == IO_URING) {
      bootstrap.option(io.netty.channel.uring.IoUringChannelOption.SO_REUSEPORT, true);
    } else {
      throw new UnsupportedOperationException(name + " has no SO_REUSEPORT");
    }
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
    if (this == IO_URING) {
      return io.netty.channel.uring.IoUringIoHandler.newFactory();
    }
    return this == EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
  }

  @Override
  public String toString() {
    return name;
  }
}
