package dev.lb.proxy;

import static java.util.Objects.requireNonNull;

import dev.lb.pool.BackendConnection;
import dev.lb.pool.ConnectionPool;
import dev.lb.pool.RawRequest;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jspecify.annotations.Nullable;

/**
 * The balancing handler: the last handler of a client connection. It hands each request to the connection's
 * {@link Exchange}, which takes it to a backend and back, and owns what concerns the client connection itself:
 * pipelined requests wait in order until the exchange before them ended; the client is not read while a backend
 * connection is being made, while the backend cannot take more, or while requests wait; a body the exchange answered
 * without is read and dropped (up to {@link #MAX_SWALLOW}); a drain closes an idle connection.
 *
 * <p>Buffers: every message read is handed to the exchange, queued (and released if the connection closes first), or
 * released.
 */
public final class ProxyHandler extends ChannelInboundHandlerAdapter {
  private static final Logger log = LogManager.getLogger(ProxyHandler.class);

  /** User event: the server is draining; an idle connection closes now, a busy one after its response. */
  public static final Object DRAIN = new Object() {
    @Override
    public String toString() {
      return "DRAIN";
    }
  };

  /**
   * Most request body bytes read and dropped after answering without the body (as Tomcat's maxSwallowSize does), so
   * that the connection stays usable; a longer body closes the connection instead.
   */
  static final long MAX_SWALLOW = 1 << 20;

  /** Reading paused while requests wait for the exchange before them (the exchange's reasons are in ClientSide). */
  private static final int PAUSE_PIPELINE = 4;

  private final Client client = new Client();
  private final Spares spares;
  /** TLS and protocol facts of the connection (for a stream, of the HTTP/2 connection it belongs to). */
  private final ClientConnection connection;
  /** Serving one stream of an HTTP/2 connection: one request, and the stream ends with its response. */
  private final boolean stream;
  /** The exchange serving this connection's requests; null while the connection is idle. */
  private @Nullable Exchange exchange;
  private @Nullable ChannelHandlerContext ctx;
  private AsciiString clientIp = AsciiString.cached("unknown");
  private int clientPort;
  private int paused;
  private boolean closing;
  /** Within the client's read burst: backend writes are flushed once, at its end. */
  private boolean inClientRead;
  /** Bytes of an answered request's body still to be dropped, or -1 when none is being dropped. */
  private long swallowBudget = -1;
  private @Nullable ArrayDeque<Object> queued;
  private boolean drainingQueue;

  public ProxyHandler(ProxyContext context, ConnectionPool pool) {
    this(new Spares(requireNonNull(context, "context"), requireNonNull(pool, "pool")));
  }

  /** A handler taking its exchanges from (and giving them back to) its event loop's {@code spares}. */
  ProxyHandler(Spares spares) {
    this(spares, ClientConnection.PLAIN);
  }

  /** A handler for a connection (or an HTTP/2 stream) that {@code connection} describes. */
  ProxyHandler(Spares spares, ClientConnection connection) {
    this.spares = spares;
    this.connection = connection;
    this.stream = connection.http2();
  }

  /** Whether a request is being served. */
  private boolean busy() {
    Exchange e = exchange;
    return e != null && e.active();
  }

  /** The connection is idle: its exchange goes back for another connection. */
  private void parkExchange() {
    Exchange e = exchange;
    if (e != null && !e.active()) {
      exchange = null;
      spares.put(e);
    }
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    SocketAddress remote = ctx.channel().remoteAddress();
    if (remote instanceof InetSocketAddress) {
      InetSocketAddress inet = (InetSocketAddress) remote;
      clientIp = new AsciiString(
          inet.getAddress() != null ? NetUtil.toAddressString(inet.getAddress()) : inet.getHostString());
      clientPort = inet.getPort();
    } else if (remote != null) {
      clientIp = new AsciiString(remote.toString());
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    inClientRead = true;
    if (closing) {
      ReferenceCountUtil.release(msg);
      return;
    }
    ArrayDeque<Object> q = queued;
    if ((q != null && !q.isEmpty()) || (msg instanceof HttpRequest && busy())) {
      if (q == null) {
        q = queued = new ArrayDeque<>(4);
      }
      q.add(msg);
      pause(PAUSE_PIPELINE);
      return;
    }
    dispatch(msg);
  }

  private void dispatch(Object msg) {
    if (msg instanceof HttpRequest) {
      Exchange e = exchange;
      if (e == null) {
        e = exchange = spares.take(client);
      }
      e.start((HttpRequest) msg);
    } else if (msg instanceof HttpContent) {
      Exchange e = exchange;
      if (swallowBudget >= 0) {
        swallow((HttpContent) msg);
      } else if (e != null) {
        e.onRequestContent((HttpContent) msg);
      } else {
        // The body of a request whose exchange ended and went back: nothing wants it.
        ((HttpContent) msg).release();
      }
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    inClientRead = false;
    Exchange e = exchange;
    if (e != null) {
      e.clientReadComplete();
    }
    ctx.fireChannelReadComplete();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    Exchange e = exchange;
    if (e != null && ctx.channel().isWritable()) {
      e.clientWritable();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closing = true;
    Exchange e = exchange;
    if (e != null) {
      e.clientClosed();
      parkExchange();
    }
    releaseQueued();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    Exchange e = exchange;
    if (e != null) {
      e.release();
      exchange = null;
    }
    releaseQueued();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt == DRAIN) {
      if (!busy() && swallowBudget < 0 && (queued == null || queued.isEmpty())) {
        closing = true;
        ctx.close();
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Exchange e = exchange;
    if (cause instanceof RequestRejectedException && e != null && e.active()) {
      e.rejectBody(((RequestRejectedException) cause).status());
      return;
    }
    if (cause instanceof IOException) {
      log.debug("client connection {} failed: {}", ctx.channel(), cause.toString());
    } else {
      log.warn("closing client connection {} after an unexpected error", ctx.channel(), cause);
    }
    closing = true;
    ctx.close();
  }

  // ---------------------------------------------------------------- the client, as the exchange sees it

  private ChannelHandlerContext ctx() {
    ChannelHandlerContext c = ctx;
    if (c == null) {
      throw new IllegalStateException("not in a pipeline");
    }
    return c;
  }

  private void pause(int reason) {
    int before = paused;
    paused |= reason;
    if (before == 0) {
      ctx().channel().config().setAutoRead(false);
    }
  }

  private void resume(int reasons) {
    int before = paused;
    if ((before & reasons) == 0) {
      return;
    }
    paused = before & ~reasons;
    if (paused == 0 && !closing) {
      ctx().channel().config().setAutoRead(true);
    }
  }

  /** The connection's side of its exchange: one per connection, made with the handler. */
  private final class Client implements ClientSide {
    @Override
    public EventExecutor executor() {
      return ctx().executor();
    }

    @Override
    public AsciiString ip() {
      return clientIp;
    }

    @Override
    public int port() {
      return clientPort;
    }

    @Override
    public ClientConnection connection() {
      return connection;
    }

    @Override
    public void write(Object msg) {
      ChannelHandlerContext c = ctx();
      c.write(msg, c.voidPromise());
    }

    @Override
    public void flush() {
      ctx().flush();
    }

    @Override
    public void writeAndFlush(Object msg) {
      ChannelHandlerContext c = ctx();
      c.writeAndFlush(msg, c.voidPromise());
    }

    @Override
    public boolean isWritable() {
      return ctx().channel().isWritable();
    }

    @Override
    public boolean inRead() {
      return inClientRead;
    }

    @Override
    public boolean closing() {
      return closing;
    }

    @Override
    public void pause(int reason) {
      ProxyHandler.this.pause(reason);
    }

    @Override
    public void resume(int reasons) {
      ProxyHandler.this.resume(reasons);
    }

    @Override
    public boolean canSwallow(@Nullable HttpRequest req) {
      if (req == null) {
        return false;
      }
      if (req instanceof RawRequest && !((RawRequest) req).decoded()) {
        return true;   // bodiless
      }
      return HttpUtil.isTransferEncodingChunked(req) || HttpUtil.getContentLength(req, 0L) <= MAX_SWALLOW;
    }

    @Override
    public void ended(Object lastMessage, boolean close, long bodyRead, boolean linger) {
      ChannelHandlerContext c = ctx();
      if (stream) {
        // The response ends the stream. A request body still arriving is not wanted: the stream is reset after the
        // response (RFC 9113 section 8.1); the connection and its other streams go on.
        if (close || bodyRead >= 0) {
          closing = true;
          c.writeAndFlush(lastMessage).addListener(ChannelFutureListener.CLOSE);
        } else {
          c.writeAndFlush(lastMessage, c.voidPromise());
        }
        parkExchange();
        return;
      }
      if (close) {
        closing = true;
        if (linger) {
          // The client may still be sending: the close lingers so that what it sends cannot turn the close into a
          // reset that destroys this answer (LingeringClose).
          LingeringClose.closeAfter(c.writeAndFlush(lastMessage));
        } else {
          c.writeAndFlush(lastMessage).addListener(ChannelFutureListener.CLOSE);
        }
        parkExchange();
        return;
      }
      c.writeAndFlush(lastMessage, c.voidPromise());
      if (bodyRead >= 0) {
        swallowBudget = MAX_SWALLOW - bodyRead;
      } else {
        drainQueue();
      }
      parkExchange();
    }

    @Override
    public void abort() {
      closing = true;
      ctx().close();
      parkExchange();
    }

    @Override
    public void tunnel(BackendConnection backend, long idleTimeoutNanos) {
      // Pipelined requests can no longer be served.
      releaseQueued();
      parkExchange();
      TunnelHandler.install(ctx().channel(), backend, idleTimeoutNanos);
    }
  }

  // ---------------------------------------------------------------- pipelining and dropped bodies

  /** Drops a piece of an answered request's body; the next request is served once the body ended. */
  private void swallow(HttpContent content) {
    swallowBudget -= content.content().readableBytes();
    boolean last = content instanceof LastHttpContent;
    content.release();
    if (swallowBudget < 0) {
      // Over the budget: the client is still sending the body of a request already answered.
      swallowBudget = -1;
      closing = true;
      LingeringClose.close(ctx().channel());
    } else if (last) {
      swallowBudget = -1;
      drainQueue();
    }
  }

  private void drainQueue() {
    if (drainingQueue) {
      return;
    }
    drainingQueue = true;
    try {
      ArrayDeque<Object> q = queued;
      while (q != null && !q.isEmpty() && !closing) {
        // A request waits for the exchange before it, and for the body of an answered one to be dropped; queued
        // pieces of that body go on to be dropped (were they left queued, nothing more would be read).
        if (q.peekFirst() instanceof HttpRequest && (busy() || swallowBudget >= 0)) {
          return;
        }
        dispatch(q.pollFirst());
      }
    } finally {
      drainingQueue = false;
    }
    if (queued == null || queued.isEmpty()) {
      resume(PAUSE_PIPELINE);
    }
  }

  private void releaseQueued() {
    ArrayDeque<Object> q = queued;
    if (q != null) {
      for (Object m; (m = q.poll()) != null; ) {
        ReferenceCountUtil.release(m);
      }
    }
  }
}
