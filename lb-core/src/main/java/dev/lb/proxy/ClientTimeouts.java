package dev.lb.proxy;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Ticker;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Runs a client connection's timers, right after {@link RequestGuard}:
 *
 * <ul>
 *   <li>{@code request_header_timeout}: a request head must arrive whole within it, counted from the connection's
 *       start for the first request and from the first byte for later ones; 408 if some of it came (then a lingering
 *       close of at most {@link LingeringClose#TIMEOUT_LIMIT}), a silent close if nothing did;
 *   <li>{@code idle_timeout}: a keep-alive connection with no request is closed after it, and so is one whose request
 *       or response body stalls that long (but not one waiting for the backend's response head, which
 *       {@code response_timeout} governs).
 * </ul>
 *
 * <p>It learns where the exchange stands from what goes by: the request heads and body parts the guard passes on
 * (a refused head as a {@link RejectedRequest}), the guard's verdict on a bad body ({@link RequestRejectedException}),
 * and the responses written. Once a request was refused with a close the guard drops whatever is read, so no head
 * clock starts again; after its own 408 this handler drops it (and the guard's verdicts on it), so that nothing read
 * goes on.
 *
 * <p>One timer per connection, re-armed lazily when it fires (as Netty's {@code IdleStateHandler} does), so serving a
 * request schedules nothing and allocates nothing here. The handler is its own timer task, one object fewer for each
 * idle connection.
 *
 * <p>Buffers: every message read is passed on, or released here after the 408; outbound messages are only observed.
 */
public final class ClientTimeouts extends ChannelDuplexHandler implements Runnable {
  private final Supplier<ProxySettings> settingsSource;
  private ProxySettings settings;

  private @Nullable ChannelHandlerContext ctx;
  private Ticker ticker = Ticker.systemTicker();
  private @Nullable ScheduledFuture<?> timer;
  private long timerDeadline;

  /** Whether no request head has arrived yet on this connection. */
  private boolean first = true;
  /** Start of the wait for the next request: connection start, then the end of each response. */
  private long idleSince;
  /** When the first byte of a pending request head was seen, or 0 when none was. */
  private long headSince;
  private boolean readMessage;
  private long lastActivity;

  private long requestsSeen;
  private long requestsCompleted;
  private long responsesCompleted;
  private boolean responseStarted;
  private boolean informational;

  /** A request was refused with a close (by the guard, or by the 408 here): no head clock starts again. */
  private boolean refused;
  /** The 408 went out: everything read from now on is dropped. */
  private boolean timedOut;

  /** Timeouts whose settings never change. */
  public ClientTimeouts(ProxySettings settings) {
    this(() -> settings);
  }

  /** Timeouts that read their settings again at each request and each timer, so that a reload applies. */
  public ClientTimeouts(Supplier<ProxySettings> settings) {
    this.settingsSource = settings;
    this.settings = settings.get();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.ticker = ctx.executor().ticker();
    idleSince = ticker.nanoTime();
    arm(idleSince + settings.headerTimeoutNanos());
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cancelTimer();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    cancelTimer();
    super.channelInactive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (timedOut) {
      ReferenceCountUtil.release(msg);
      return;
    }
    readMessage = true;
    if (msg instanceof HttpRequest) {
      onRequest((HttpRequest) msg);
    }
    if (msg instanceof HttpContent) {
      // Passed on by the guard, so accepted: a last one completes the request.
      lastActivity = ticker.nanoTime();
      if (msg instanceof LastHttpContent) {
        requestsCompleted++;
      }
    }
    ctx.fireChannelRead(msg);
  }

  private void onRequest(HttpRequest request) {
    settings = settingsSource.get();
    first = false;
    headSince = 0;
    lastActivity = ticker.nanoTime();
    armBy(lastActivity + settings.idleTimeoutNanos());
    requestsSeen++;
    if (request instanceof RejectedRequest && ((RejectedRequest) request).close()) {
      refused = true;
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof RequestRejectedException) {
      if (timedOut) {
        // A verdict on something read after the 408, which goes nowhere.
        return;
      }
      // The guard refused a body part in place of passing it on; it drops everything read from now on.
      lastActivity = ticker.nanoTime();
      refused = true;
    }
    ctx.fireExceptionCaught(cause);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (!readMessage && !refused && headSince == 0 && requestsSeen == responsesCompleted) {
      // Bytes arrived but no whole head yet: the head clock starts now (at the connection's start for the first).
      long now = ticker.nanoTime();
      headSince = first ? idleSince : now;
      armBy(headSince + settings.headerTimeoutNanos());
    }
    readMessage = false;
    ctx.fireChannelReadComplete();
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof HttpObject) {
      onWrite((HttpObject) msg);
    }
    ctx.write(msg, promise);
  }

  private void onWrite(HttpObject msg) {
    if (msg instanceof HttpResponse) {
      if (((HttpResponse) msg).status().codeClass() == HttpStatusClass.INFORMATIONAL) {
        informational = true;
      } else {
        responseStarted = true;
        lastActivity = ticker.nanoTime();
      }
    }
    if (msg instanceof LastHttpContent) {
      if (informational) {
        informational = false;
      } else if (responseStarted) {
        responseStarted = false;
        responsesCompleted++;
        idleSince = ticker.nanoTime();
        if (requestsSeen == responsesCompleted) {
          armBy(idleSince + settings.idleTimeoutNanos());
        }
      }
    } else if (msg instanceof HttpContent) {
      lastActivity = ticker.nanoTime();
    }
  }

  /** The timer. */
  @Override
  public void run() {
    timer = null;
    settings = settingsSource.get();
    ChannelHandlerContext ctx = this.ctx;
    if (ctx == null || !ctx.channel().isActive()) {
      return;
    }
    long now = ticker.nanoTime();
    long deadline;
    boolean idleConnection = requestsSeen == responsesCompleted;
    if (idleConnection && headSince != 0) {
      deadline = headSince + settings.headerTimeoutNanos();
      if (now - deadline >= 0) {
        refused = true;
        timedOut = true;
        // Lingers (briefly) like lb's other closing answers, so that a client still sending reads its 408.
        LingeringClose.closeAfter(
            ctx.writeAndFlush(ErrorResponses.create(HttpResponseStatus.REQUEST_TIMEOUT, true, RequestIds.generate())),
            LingeringClose.TIMEOUT_LIMIT);
        return;
      }
    } else if (idleConnection) {
      deadline = idleSince + (first ? settings.headerTimeoutNanos() : settings.idleTimeoutNanos());
      if (now - deadline >= 0) {
        ctx.close();
        return;
      }
    } else if (requestsCompleted > responsesCompleted && !responseStarted) {
      // The request is with the backend; response_timeout is the balancing handler's. Look again later.
      deadline = now + settings.idleTimeoutNanos();
    } else {
      deadline = lastActivity + settings.idleTimeoutNanos();
      if (now - deadline >= 0) {
        ctx.close();
        return;
      }
    }
    arm(deadline);
  }

  private void arm(long deadline) {
    ChannelHandlerContext ctx = this.ctx;
    if (ctx == null) {
      return;
    }
    timerDeadline = deadline;
    timer = ctx.executor().schedule(this, Math.max(0, deadline - ticker.nanoTime()), NANOSECONDS);
  }

  /** Makes sure the timer fires no later than {@code deadline}; a later one is re-armed earlier. */
  private void armBy(long deadline) {
    if (timer == null || deadline - timerDeadline < 0) {
      cancelTimer();
      arm(deadline);
    }
  }

  private void cancelTimer() {
    ScheduledFuture<?> t = timer;
    if (t != null) {
      timer = null;
      t.cancel(false);
    }
    timerDeadline = Long.MAX_VALUE;
  }
}
