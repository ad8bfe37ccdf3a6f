package dev.lb.proxy;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Closes a client connection that may still be sending without destroying the answer it was just given, as nginx's
 * {@code lingering_close} and Apache's lingering close do. Closing a socket whose receive queue holds unread bytes
 * makes the kernel send a reset instead of a FIN, and a reset that overtakes the answer makes the client's kernel drop
 * it: a client uploading past {@code max_body_size} would see "connection reset" instead of its 413.
 *
 * <p>So, once everything written so far has gone out, the output side is shut (the client reads the answer and then
 * the end of the stream), and whatever the client still sends is read and dropped, before any other handler sees it,
 * until the client closes its side, or it has been quiet for {@link #QUIET}, or a limit has passed since the linger
 * began ({@link #LIMIT} unless the caller gives a shorter one). Then the connection closes.
 *
 * <p>Used after lb's own answers that close the connection and after responses that end before the request's body
 * did; a plain {@code Connection: close} after a complete request closes at once. The {@code 408} of the header
 * timeout lingers only {@link #TIMEOUT_LIMIT}: a slowloris client dripping bytes must not hold its connection much
 * past the timeout that cut it.
 */
final class LingeringClose extends ChannelInboundHandlerAdapter implements Runnable {
  /** A client quiet this long has stopped sending: the connection closes. */
  static final long QUIET = TimeUnit.SECONDS.toNanos(1);
  /** The longest a connection lingers, however much the client sends. */
  static final long LIMIT = TimeUnit.SECONDS.toNanos(5);
  /**
   * The longest a connection lingers after a timeout's answer: long enough for a client that reads to take the answer
   * and the end of the stream, short enough that the connection still closes within a second of the timeout.
   */
  static final long TIMEOUT_LIMIT = TimeUnit.MILLISECONDS.toNanos(500);

  private final long began;
  private final long limit;
  private long lastRead;
  private @Nullable ChannelHandlerContext ctx;
  private @Nullable ScheduledFuture<?> timer;

  private LingeringClose(long now, long limit) {
    this.began = now;
    this.lastRead = now;
    this.limit = limit;
  }

  /**
   * Lingers on {@code channel}, then closes it; a channel that is not a socket, not open, or already lingering is
   * closed at once or left to its linger. Call on the channel's event loop, after the last write.
   */
  static void close(Channel channel) {
    close(channel, LIMIT);
  }

  /** As {@link #close(Channel)}, lingering at most {@code limitNanos}; a client quiet for {@link #QUIET} ends it sooner. */
  static void close(Channel channel, long limitNanos) {
    ChannelPipeline pipeline = channel.pipeline();
    if (pipeline.get(HandlerNames.LINGER) != null) {
      return;
    }
    if (!(channel instanceof DuplexChannel) || !channel.isActive() || ((DuplexChannel) channel).isOutputShutdown()) {
      channel.close();
      return;
    }
    pipeline.addFirst(HandlerNames.LINGER, new LingeringClose(channel.eventLoop().ticker().nanoTime(), limitNanos));
  }

  /** Lingers on the channel of {@code written} once it is written; closes it if the write failed. */
  static void closeAfter(ChannelFuture written) {
    written.addListener(LingeringClose::closeWhenWritten);
  }

  /** As {@link #closeAfter(ChannelFuture)}, lingering at most {@code limitNanos}. */
  static void closeAfter(ChannelFuture written, long limitNanos) {
    written.addListener(f -> closeWhenWritten(f, limitNanos));
  }

  private static void closeWhenWritten(io.netty.util.concurrent.Future<? super Void> written) {
    closeWhenWritten(written, LIMIT);
  }

  private static void closeWhenWritten(io.netty.util.concurrent.Future<? super Void> written, long limitNanos) {
    Channel channel = ((ChannelFuture) written).channel();
    if (written.isSuccess()) {
      close(channel, limitNanos);
    } else {
      channel.close();
    }
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    Channel channel = ctx.channel();
    // Written from here, the empty buffer passes no encoder, and completes once every earlier write has gone out.
    ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(flushed -> {
      if (!flushed.isSuccess() || !channel.isActive()) {
        channel.close();
        return;
      }
      ((DuplexChannel) channel).shutdownOutput().addListener(shut -> {
        if (!shut.isSuccess()) {
          channel.close();
        }
      });
    });
    channel.config().setAutoRead(true);
    channel.read();
    timer = ctx.executor().schedule(this, Math.min(QUIET, limit), TimeUnit.NANOSECONDS);
  }

  /** The timer: closes the connection once the client has been quiet for {@link #QUIET}, or at the limit. */
  @Override
  public void run() {
    ChannelHandlerContext c = ctx;
    if (c == null || !c.channel().isOpen()) {
      return;
    }
    long now = c.executor().ticker().nanoTime();
    long deadline = Math.min(lastRead + QUIET, began + limit);
    if (now - deadline >= 0) {
      c.close();
    } else {
      timer = c.executor().schedule(this, deadline - now, TimeUnit.NANOSECONDS);
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    lastRead = ctx.executor().ticker().nanoTime();
    ReferenceCountUtil.release(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    // Nothing was passed on, so there is nothing to complete.
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      ctx.close();
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // A reset or a read error while lingering ends the linger; there is no one left to tell.
    ctx.close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    ScheduledFuture<?> t = timer;
    if (t != null) {
      t.cancel(false);
      timer = null;
    }
    ctx.fireChannelInactive();
  }
}
