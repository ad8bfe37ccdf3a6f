package dev.lb.proxy;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Ticker;
import java.util.concurrent.ScheduledFuture;
import org.jspecify.annotations.Nullable;

/**
 * Guards a client connection, right after {@link FrontendCodec}: refuses malformed, ambiguous or oversized requests
 * (as a {@link RejectedRequest} passed on in their place, or a {@link RequestRejectedException} when the body turns
 * out bad after the head went on), and enforces the connection's timeouts:
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
 * <p>Trailer fields that must not be trailers ({@link TrailerFields}) are dropped from a request's last content
 * before it goes on.
 *
 * <p>One timer per connection, re-armed lazily when it fires, so serving a request schedules nothing.
 *
 * <p>Buffers: every message read is passed on, or released here when refused or discarded; outbound messages are
 * only observed.
 */
public final class RequestGuard extends ChannelDuplexHandler {
  private final java.util.function.Supplier<ProxySettings> settingsSource;
  private ProxySettings settings;

  private @Nullable ChannelHandlerContext ctx;
  private Ticker ticker = Ticker.systemTicker();
  private @Nullable ScheduledFuture<?> timer;
  private long timerDeadline;
  private final Runnable onTimer = this::onTimer;

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

  private long bodyBytes;
  /** After a refusal that closes the connection, everything read is dropped. */
  private boolean discarding;

  /** A guard whose settings never change. */
  public RequestGuard(ProxySettings settings) {
    this(() -> settings);
  }

  /** A guard that reads its settings again at each request and each timer, so that a reload applies. */
  public RequestGuard(java.util.function.Supplier<ProxySettings> settings) {
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
    readMessage = true;
    if (discarding) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpRequest) {
      onRequest(ctx, (HttpRequest) msg);
    } else if (msg instanceof HttpContent) {
      onContent(ctx, (HttpContent) msg);
    } else {
      ctx.fireChannelRead(msg);
    }
  }

  private void onRequest(ChannelHandlerContext ctx, HttpRequest request) {
    settings = settingsSource.get();
    first = false;
    headSince = 0;
    lastActivity = ticker.nanoTime();
    armBy(lastActivity + settings.idleTimeoutNanos());
    requestsSeen++;
    bodyBytes = 0;
    long length = RequestSyntax.contentLength(request.headers());
    HttpResponseStatus refusal = refusal(request, length);
    if (refusal != null) {
      discarding = true;
      if (length == RequestSyntax.INVALID_LENGTH) {
        // The connection closes without reading a body: a length nothing downstream could parse has no use.
        request.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
      }
      ctx.fireChannelRead(new RejectedRequest(request, refusal, true));
      ReferenceCountUtil.release(request);
      return;
    }
    RequestSyntax.normaliseFraming(request.headers(), length);
    if (request instanceof HttpContent) {
      onContent(ctx, (HttpContent) request);
      return;
    }
    ctx.fireChannelRead(request);
  }

  private void onContent(ChannelHandlerContext ctx, HttpContent content) {
    lastActivity = ticker.nanoTime();
    DecoderResult result = content.decoderResult();
    if (result.isFailure()) {
      reject(ctx, content, HttpResponseStatus.BAD_REQUEST, "malformed body: " + result.cause());
      return;
    }
    bodyBytes += content.content().readableBytes();
    long max = settings.maxBodySize();
    if (max > 0 && bodyBytes > max) {
      reject(ctx, content, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "body over " + max + " bytes");
      return;
    }
    if (content instanceof LastHttpContent) {
      if (((LastHttpContent) content).trailingHeaders().size() > ProxySettings.MAX_HEADER_COUNT) {
        reject(ctx, content, HttpResponseStatus.BAD_REQUEST, "over " + ProxySettings.MAX_HEADER_COUNT + " trailers");
        return;
      }
      TrailerFields.strip(((LastHttpContent) content).trailingHeaders());
      requestsCompleted++;
    }
    ctx.fireChannelRead(content);
  }

  private void reject(ChannelHandlerContext ctx, HttpContent content, HttpResponseStatus status, String why) {
    ReferenceCountUtil.release(content);
    discarding = true;
    ctx.fireExceptionCaught(new RequestRejectedException(status, why));
  }

  /**
   * Why this request head must not go on, or null when it may; {@code length} is its
   * {@link RequestSyntax#contentLength}.
   */
  private @Nullable HttpResponseStatus refusal(HttpRequest request, long length) {
    DecoderResult result = request.decoderResult();
    if (result.isFailure()) {
      Throwable cause = result.cause();
      if (cause instanceof TooLongHttpLineException) {
        return HttpResponseStatus.REQUEST_URI_TOO_LONG;
      }
      if (cause instanceof TooLongHttpHeaderException) {
        return HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
      }
      return HttpResponseStatus.BAD_REQUEST;
    }
    HttpHeaders headers = request.headers();
    if (headers.size() > ProxySettings.MAX_HEADER_COUNT) {
      return HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
    }
    HttpVersion version = request.protocolVersion();
    if (version.majorVersion() != 1) {
      return HttpResponseStatus.BAD_REQUEST;
    }
    if (HttpMethod.CONNECT.equals(request.method())) {
      return HttpResponseStatus.METHOD_NOT_ALLOWED;
    }
    String uri = request.uri();
    if (!RequestSyntax.validTarget(uri)
        || (uri.length() == 1 && uri.charAt(0) == '*' && !HttpMethod.OPTIONS.equals(request.method()))) {
      return HttpResponseStatus.BAD_REQUEST;
    }
    String host = headers.get(HttpHeaderNames.HOST);
    if (host == null
        ? version.minorVersion() >= 1
        : !RequestSyntax.validHost(host) || headers.getAll(HttpHeaderNames.HOST).size() > 1) {
      return HttpResponseStatus.BAD_REQUEST;
    }
    if (host != null && !RequestSyntax.authorityMatches(uri, host)) {
      return HttpResponseStatus.BAD_REQUEST;
    }
    if (version.minorVersion() == 0 && headers.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
      return HttpResponseStatus.BAD_REQUEST;
    }
    if (length == RequestSyntax.INVALID_LENGTH) {
      return HttpResponseStatus.BAD_REQUEST;
    }
    long max = settings.maxBodySize();
    if (max > 0 && length > max) {
      return HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE;
    }
    return null;
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (!readMessage && !discarding && headSince == 0 && requestsSeen == responsesCompleted) {
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

  private void onTimer() {
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
        discarding = true;
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
    timer = ctx.executor().schedule(onTimer, Math.max(0, deadline - ticker.nanoTime()), NANOSECONDS);
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
