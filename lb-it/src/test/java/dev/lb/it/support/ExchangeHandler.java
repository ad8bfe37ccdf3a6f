package dev.lb.it.support;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The last handler of a backend connection: runs one {@link Exchange} at a time, in request order. Requests that
 * arrive while an answer is still being written (pipelining) wait in a queue, and reading stops while anything
 * waits, so the queue holds at most about one socket read. A delay (the backend-wide one, or {@code /slow}) is a
 * scheduled task, never a sleep.
 *
 * <p>Netty fires {@code channelWritabilityChanged} synchronously from inside {@code write()} and {@code flush()}, so
 * an exchange's write can re-enter this handler; the queue is drained by the outermost call only.
 *
 * <p>Buffers: every message read is either queued (owned here until dispatched, released if the connection closes
 * first), handed to the current exchange (which then owns it), or released.
 */
final class ExchangeHandler extends ChannelInboundHandlerAdapter {
  private static final byte[] BAD_REQUEST = "bad request".getBytes(StandardCharsets.UTF_8);

  private final BackendState state;
  private final ArrayDeque<Object> inbound = new ArrayDeque<>();
  private @Nullable ChannelHandlerContext ctx;
  private @Nullable ReadGate gate;
  private @Nullable Exchange current;
  private boolean requestEnded;
  private @Nullable ScheduledFuture<?> pendingStart;
  private boolean done;
  private boolean draining;

  ExchangeHandler(BackendState state) {
    this.state = state;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.gate = ReadGate.of(ctx.channel());
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (done) {
      ReferenceCountUtil.release(msg);
      return;
    }
    inbound.add(msg);
    drain();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (current != null) {
      current.writabilityChanged();
    }
    drain();
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    stop();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    stop();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // Peers of a test backend reset and abort connections on purpose; there is nothing to report.
    ctx.close();
  }

  /** Dispatches queued messages while the current exchange lets the next one start. */
  private void drain() {
    if (draining) {
      // Netty fires writability changes synchronously from inside write() and flush(); the outer loop goes on.
      return;
    }
    draining = true;
    try {
      drainQueue();
    } finally {
      draining = false;
    }
  }

  private void drainQueue() {
    while (!done) {
      if (current != null && requestEnded && current.isResponseComplete()) {
        finishExchange();
        continue;
      }
      if (pendingStart != null || (current != null && requestEnded)) {
        break;
      }
      Object msg = inbound.poll();
      if (msg == null) {
        break;
      }
      dispatch(msg);
    }
    if (!done) {
      gate().set(ReadGate.Reason.QUEUED, !inbound.isEmpty());
      gate().set(ReadGate.Reason.BACKPRESSURE, !ctx().channel().isWritable());
    }
  }

  private void dispatch(Object msg) {
    if (msg instanceof HttpRequest request) {
      if (request.decoderResult().isFailure()) {
        ReferenceCountUtil.release(msg);
        badRequest();
        return;
      }
      long delay = Routes.delayMillis(request, state);
      if (delay > 0) {
        pendingStart =
            ctx().executor()
                .schedule(
                    () -> {
                      pendingStart = null;
                      begin(request);
                      drain();
                    },
                    delay,
                    TimeUnit.MILLISECONDS);
      } else {
        begin(request);
      }
    } else if (msg instanceof HttpContent content && current != null && !requestEnded) {
      boolean last = content instanceof LastHttpContent;
      current.content(content);
      requestEnded = last;
    } else {
      // A body part with no request: what trails a WebSocket upgrade, or the rest of a dropped exchange.
      ReferenceCountUtil.release(msg);
    }
  }

  private void begin(HttpRequest request) {
    if (done) {
      return;
    }
    current = Routes.select(ctx(), request, state);
    requestEnded = false;
    current.start();
  }

  private void finishExchange() {
    Exchange finished = current;
    current = null;
    if (finished != null && !HttpUtil.isKeepAlive(finished.request)) {
      // HttpServerKeepAliveHandler closes the channel once the response is flushed; later requests are moot.
      stop();
    }
  }

  private void badRequest() {
    ctx().writeAndFlush(Responses.closing(ctx().alloc(), HttpResponseStatus.BAD_REQUEST, BAD_REQUEST))
        .addListener(ChannelFutureListener.CLOSE);
    stop();
  }

  /** Ends all work on this connection and releases whatever is queued. */
  private void stop() {
    if (done) {
      return;
    }
    done = true;
    if (pendingStart != null) {
      pendingStart.cancel(false);
      pendingStart = null;
    }
    for (Object msg; (msg = inbound.poll()) != null; ) {
      ReferenceCountUtil.release(msg);
    }
    if (current != null) {
      current.closed();
      current = null;
    }
  }

  private ChannelHandlerContext ctx() {
    if (ctx == null) {
      throw new IllegalStateException("handler not added");
    }
    return ctx;
  }

  private ReadGate gate() {
    if (gate == null) {
      throw new IllegalStateException("handler not added");
    }
    return gate;
  }
}
