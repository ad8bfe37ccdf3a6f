package dev.lb.it.support;

import dev.lb.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Thousands of misbehaving client connections from a few Netty event loops instead of a thread each, each one
 * timing what the server does to it. Three kinds:
 *
 * <ul>
 *   <li>{@link #slowHead}: slowloris, a request head sent one byte at a time, never finished;
 *   <li>{@link #slowBody}: a whole request head with a {@code Content-Length} body of which one byte comes, and then
 *       nothing;
 *   <li>{@link #slowRead}: a request for a large response that the client does not read ({@code autoRead} off and a
 *       small receive buffer) until {@link Conn#startReading()}.
 * </ul>
 *
 * <p>Every connection records when it opened, when it last sent something, when the server closed it, and the first
 * bytes it received. Times are {@link System#nanoTime()} values taken on the client's event loop.
 */
public final class SlowClients implements AutoCloseable {
  /** Bytes of each response kept for inspection. */
  static final int KEEP = 512;

  private final EventLoopGroup group;
  private final Bootstrap bootstrap;
  private final List<Conn> conns = new ArrayList<>();

  /** Clients on {@code threads} event loops of the best transport here, to {@code 127.0.0.1:port}. */
  public SlowClients(int port, int threads) {
    Transport transport = Transport.detect();
    this.group = transport.newGroup(threads, "slow-client");
    this.bootstrap = new Bootstrap()
        .group(group)
        .channel(transport.socketChannel())
        .remoteAddress(new InetSocketAddress("127.0.0.1", port))
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
        // Heap buffers outside leak detection: the clients' own reads need not pay paranoid tracking, the server's do.
        .option(ChannelOption.ALLOCATOR, new UnpooledByteBufAllocator(false, true))
        .option(ChannelOption.TCP_NODELAY, true);
  }

  /** What a connection does once open. */
  public enum Kind {
    HEAD, BODY, READ
  }

  /**
   * Opens a connection that sends {@code GET target HTTP/1.1}, a Host header and then a header that never ends, one
   * byte every {@code every}.
   */
  public Conn slowHead(String target, Duration every) {
    String head = "GET " + target + " HTTP/1.1\r\nHost: slow\r\nX-Slowloris: " + "s".repeat(4096);
    return open(new Conn(Kind.HEAD, head.getBytes(StandardCharsets.US_ASCII), every, 0));
  }

  /**
   * Opens a connection that sends a whole {@code POST target} head announcing {@code contentLength} body bytes, then
   * the first body byte, then nothing more.
   */
  public Conn slowBody(String target, int contentLength) {
    String head = "POST " + target + " HTTP/1.1\r\nHost: slow\r\nContent-Type: application/octet-stream\r\n"
        + "Content-Length: " + contentLength + "\r\n\r\nb";
    return open(new Conn(Kind.BODY, head.getBytes(StandardCharsets.US_ASCII), Duration.ZERO, 0));
  }

  /**
   * Opens a connection with a {@code receiveBuffer}-byte socket receive buffer and reading off, and sends
   * {@code GET target}: the response waits in the network until {@link Conn#startReading()}.
   */
  public Conn slowRead(String target, int receiveBuffer) {
    String head = "GET " + target + " HTTP/1.1\r\nHost: slow\r\n\r\n";
    return open(new Conn(Kind.READ, head.getBytes(StandardCharsets.US_ASCII), Duration.ZERO, receiveBuffer));
  }

  /** Every connection opened so far. */
  public synchronized List<Conn> conns() {
    return List.copyOf(conns);
  }

  private Conn open(Conn conn) {
    synchronized (this) {
      conns.add(conn);
    }
    Bootstrap b = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        ch.pipeline().addLast(conn.handler());
      }
    });
    if (conn.kind == Kind.READ) {
      b.option(ChannelOption.AUTO_READ, false).option(ChannelOption.SO_RCVBUF, conn.receiveBuffer);
    }
    conn.connectStarted = System.nanoTime();
    ChannelFuture f = b.connect();
    conn.channel = f.channel();
    f.addListener(done -> {
      if (!done.isSuccess()) {
        conn.failure = done.cause();
        conn.closed = System.nanoTime();
      }
    });
    return conn;
  }

  @Override
  public void close() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  /** One slow connection and what happened to it. */
  public static final class Conn {
    private final Kind kind;
    private final byte[] toSend;
    private final Duration every;
    private final int receiveBuffer;
    private volatile Channel channel;
    private volatile long connectStarted;
    private volatile long opened;
    private volatile long lastSent;
    private volatile long closed;
    private volatile Throwable failure;
    private long received;
    private final ByteArrayOutputStream firstBytes = new ByteArrayOutputStream();
    private int sent;
    private ScheduledFuture<?> drip;

    private Conn(Kind kind, byte[] toSend, Duration every, int receiveBuffer) {
      this.kind = kind;
      this.toSend = toSend;
      this.every = every;
      this.receiveBuffer = receiveBuffer;
    }

    public Kind kind() {
      return kind;
    }

    /** When the connection attempt started. */
    public long connectStarted() {
      return connectStarted;
    }

    /** When the connection was established (0 until then). */
    public long opened() {
      return opened;
    }

    /** When the last byte was written to the socket (0 if none was). */
    public long lastSent() {
      return lastSent;
    }

    /** When the connection was seen closed (0 while open). */
    public long closed() {
      return closed;
    }

    public boolean isClosed() {
      return closed != 0;
    }

    /** Why the connection could not be made, or null. */
    public Throwable failure() {
      return failure;
    }

    /** Bytes received in all. */
    public synchronized long received() {
      return received;
    }

    /** The first bytes received, as ISO-8859-1 text. */
    public synchronized String firstBytes() {
      return firstBytes.toString(StandardCharsets.ISO_8859_1);
    }

    /** Time from open to close. */
    public Duration openFor() {
      return Duration.ofNanos(closed - opened);
    }

    /** Time from the last byte sent to close. */
    public Duration silentFor() {
      return Duration.ofNanos(closed - lastSent);
    }

    /** Turns reading on (for {@link Kind#READ}): what is in flight is read and counted, then the end if it came. */
    public void startReading() {
      channel.config().setAutoRead(true);
    }

    @Override
    public String toString() {
      return kind + " " + channel + " opened after " + Duration.ofNanos(opened - connectStarted).toMillis()
          + " ms, " + (closed == 0 ? "open" : "closed after " + openFor().toMillis() + " ms") + ", sent " + sent
          + " bytes, received " + received() + ": " + firstBytes().lines().findFirst().orElse("")
          + (failure != null ? ", failed: " + failure : "");
    }

    private ChannelInboundHandlerAdapter handler() {
      return new ChannelInboundHandlerAdapter() {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
          opened = System.nanoTime();
          if (kind == Kind.HEAD) {
            sendNext(ctx);
            drip = ctx.executor().scheduleAtFixedRate(() -> sendNext(ctx), every.toNanos(), every.toNanos(),
                TimeUnit.NANOSECONDS);
          } else {
            write(ctx, Unpooled.wrappedBuffer(toSend), toSend.length);
          }
          ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
          ByteBuf buf = (ByteBuf) msg;
          try {
            synchronized (Conn.this) {
              received += buf.readableBytes();
              int keep = Math.min(buf.readableBytes(), KEEP - firstBytes.size());
              if (keep > 0) {
                byte[] bytes = new byte[keep];
                buf.getBytes(buf.readerIndex(), bytes);
                firstBytes.write(bytes, 0, keep);
              }
            }
          } finally {
            ReferenceCountUtil.release(msg);
          }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
          closed = System.nanoTime();
          if (drip != null) {
            drip.cancel(false);
          }
          ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
          // A reset by the server: the close that follows is what counts.
          ctx.close();
        }
      };
    }

    private void sendNext(ChannelHandlerContext ctx) {
      if (sent >= toSend.length || !ctx.channel().isActive()) {
        return;
      }
      write(ctx, Unpooled.wrappedBuffer(toSend, sent, 1), 1);
    }

    private void write(ChannelHandlerContext ctx, ByteBuf bytes, int n) {
      sent += n;
      ctx.writeAndFlush(bytes).addListener(done -> {
        if (done.isSuccess()) {
          lastSent = System.nanoTime();
        }
      });
    }
  }
}
