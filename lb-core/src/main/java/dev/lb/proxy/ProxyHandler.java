package dev.lb.proxy;

import static java.util.Objects.requireNonNull;

import dev.lb.backend.Backend;
import dev.lb.balance.PickContext;
import dev.lb.log.AccessLogMessage;
import dev.lb.pool.BackendConnection;
import dev.lb.pool.ConnectionPool;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jspecify.annotations.Nullable;

/**
 * The balancing handler: the last handler of a client connection. For each request it picks a backend, borrows a
 * connection to it from this event loop's {@link ConnectionPool} (or opens one), and relays the exchange both ways as it
 * arrives, with backpressure, never holding a whole body. It retries on another backend as the contract allows,
 * answers failures with the contract's JSON, serves pipelined requests in order, and turns the connection into a
 * {@link TunnelHandler byte tunnel} after a WebSocket upgrade.
 *
 * <p>One exchange is in progress at a time; messages of later pipelined requests wait in a queue, and the client is
 * not read meanwhile.
 *
 * <p>Buffers: request messages read here are written to the backend (the encoder releases them), held while a
 * connection is being made, or released; backend messages passed to this handler are written to the client or
 * released. Nothing is copied.
 */
public final class ProxyHandler extends ChannelInboundHandlerAdapter
    implements BackendConnection.Listener, PickContext {
  private static final Logger log = LogManager.getLogger(ProxyHandler.class);

  /** User event: the server is draining; an idle connection closes now, a busy one after its response. */
  public static final Object DRAIN = new Object() {
    @Override
    public String toString() {
      return "DRAIN";
    }
  };

  /** Status logged for an exchange the client abandoned before its response began (as nginx does). */
  static final int CLIENT_CLOSED = 499;

  /**
   * Most request body bytes read and dropped after answering without the body (as Tomcat's maxSwallowSize does), so
   * that the connection stays usable; a longer body closes the connection instead.
   */
  static final long MAX_SWALLOW = 1 << 20;

  private static final int PAUSE_CONNECTING = 1;
  private static final int PAUSE_BACKEND_FULL = 2;
  private static final int PAUSE_PIPELINE = 4;

  private final ProxyContext context;
  private final ConnectionPool pool;
  private @Nullable ChannelHandlerContext ctx;
  private AsciiString clientIp = AsciiString.cached("unknown");
  private int clientPort;
  private int paused;
  private boolean closing;

  // The current exchange.
  private @Nullable HttpRequest request;
  private ProxySettings settings;
  private int exchangeId;
  private CharSequence requestId = "-";
  private long startNanos;
  private boolean http10;
  private boolean bodyless;
  private boolean idempotent;
  private boolean upgrade;
  private boolean clientKeepAlive;
  private boolean requestComplete;
  private boolean requestSent;
  private boolean requestForwarded;
  private boolean wroteToBackend;
  /** Within the client's read burst: backend writes are flushed once, at its end. */
  private boolean inClientRead;
  private @Nullable ArrayDeque<HttpContent> pendingBody;
  private @Nullable BackendConnection backend;
  private @Nullable Backend lastBackend;
  private Backend[] tried = new Backend[4];
  private int attempts;
  private boolean responseStarted;
  private boolean informational;
  private boolean dropInformational;
  private boolean backendKeepAlive;
  private int status;
  private long requestBytes;
  private long responseBytes;
  private @Nullable ScheduledFuture<?> responseTimer;
  private final Runnable onResponseTimeout = this::onResponseTimeout;

  /** Bytes of an answered request's body still to be dropped, or -1 when none is being dropped. */
  private long swallowBudget = -1;

  // Messages of later pipelined requests.
  private @Nullable ArrayDeque<Object> queued;
  private boolean drainingQueue;

  public ProxyHandler(ProxyContext context, ConnectionPool pool) {
    this.context = requireNonNull(context, "context");
    this.pool = requireNonNull(pool, "pool");
    this.settings = context.settings();
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

  private ChannelHandlerContext ctx() {
    ChannelHandlerContext c = ctx;
    if (c == null) {
      throw new IllegalStateException("not in a pipeline");
    }
    return c;
  }

  // ---------------------------------------------------------------- client side

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    inClientRead = true;
    if (closing) {
      ReferenceCountUtil.release(msg);
      return;
    }
    ArrayDeque<Object> q = queued;
    if ((q != null && !q.isEmpty()) || (msg instanceof HttpRequest && request != null)) {
      if (q == null) {
        q = queued = new ArrayDeque<>(4);
      }
      q.add(msg);
      pause(PAUSE_PIPELINE);
      return;
    }
    dispatchInbound(msg);
  }

  private void dispatchInbound(Object msg) {
    if (msg instanceof HttpRequest) {
      startExchange((HttpRequest) msg);
    } else if (msg instanceof HttpContent) {
      onRequestContent((HttpContent) msg);
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    inClientRead = false;
    BackendConnection c = backend;
    if (wroteToBackend && c != null) {
      wroteToBackend = false;
      c.channel().flush();
    }
    ctx.fireChannelReadComplete();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    BackendConnection c = backend;
    if (c != null && ctx.channel().isWritable()) {
      c.channel().config().setAutoRead(true);
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closing = true;
    if (request != null) {
      if (!responseStarted) {
        status = CLIENT_CLOSED;
      }
      abandonBackend();
      logAccess();
      endExchange();
    }
    releaseQueued();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cancelResponseTimer();
    releasePendingBody();
    releaseQueued();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt == DRAIN) {
      if (request == null && (queued == null || queued.isEmpty())) {
        closing = true;
        ctx.close();
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof RequestRejectedException && request != null) {
      respondError(((RequestRejectedException) cause).status(), null, true);
      return;
    }
    if (cause instanceof IOException) {
      log.debug("client connection {} failed: {}", ctx.channel(), cause.toString());
    } else {
      log.warn("closing client connection {} after an unexpected error", ctx.channel(), cause);
    }
    ctx.close();
  }

  // ---------------------------------------------------------------- the request

  private void startExchange(HttpRequest req) {
    exchangeId++;
    request = req;
    settings = context.settings();
    startNanos = System.nanoTime();
    attempts = 0;
    status = 0;
    requestBytes = 0;
    responseBytes = 0;
    lastBackend = null;
    responseStarted = false;
    requestComplete = false;
    requestSent = false;
    requestForwarded = false;
    http10 = req.protocolVersion().minorVersion() == 0;
    HttpHeaders headers = req.headers();
    bodyless = !HttpUtil.isTransferEncodingChunked(req) && HttpUtil.getContentLength(req, 0L) <= 0;
    if (req instanceof RejectedRequest) {
      RejectedRequest rejected = (RejectedRequest) req;
      requestId = RequestIds.generate();
      clientKeepAlive = HttpUtil.isKeepAlive(req);
      respondError(rejected.status(), rejected.responseHeaders(), rejected.close());
      return;
    }
    clientKeepAlive = HttpUtil.isKeepAlive(req) && !context.draining();
    idempotent = isIdempotent(req.method());
    upgrade = isWebSocketUpgrade(headers);
    requestId = RequestIds.ensure(headers);
    ForwardedHeaders.rewriteRequest(headers, clientIp, upgrade);
    dispatch();
  }

  private void onRequestContent(HttpContent content) {
    if (swallowBudget >= 0) {
      swallow(content);
      return;
    }
    if (request == null || requestComplete) {
      content.release();
      return;
    }
    boolean last = content instanceof LastHttpContent;
    requestBytes += content.content().readableBytes();
    if (last) {
      requestComplete = true;
    }
    BackendConnection c = backend;
    if (c == null) {
      if (bodyless) {
        content.release();
      } else {
        ArrayDeque<HttpContent> pending = pendingBody;
        if (pending == null) {
          pending = pendingBody = new ArrayDeque<>(4);
        }
        pending.add(content);
      }
      return;
    }
    Channel bc = c.channel();
    bc.write(content, bc.voidPromise());
    if (last) {
      requestForwarded = true;
      armResponseTimer();
    }
    flushToBackend(bc);
  }

  /** Flushes now, or at the end of the client's read burst when inside one; pauses the client if the backend is full. */
  private void flushToBackend(Channel bc) {
    if (inClientRead) {
      wroteToBackend = true;
    } else {
      bc.flush();
    }
    if (!bc.isWritable()) {
      pause(PAUSE_BACKEND_FULL);
    }
  }

  // ---------------------------------------------------------------- choosing and reaching a backend

  @Override
  public boolean tried(Backend candidate) {
    for (int i = 0; i < attempts; i++) {
      if (tried[i] == candidate) {
        return true;
      }
    }
    return false;
  }

  private void dispatch() {
    ProxyContext.Routing routing = context.routing();
    Backend target = routing.balancer().pick(routing.group(), this);
    if (target == null) {
      respondError(attempts == 0 ? HttpResponseStatus.SERVICE_UNAVAILABLE : HttpResponseStatus.BAD_GATEWAY, null,
          false);
      return;
    }
    if (attempts == tried.length) {
      tried = java.util.Arrays.copyOf(tried, attempts * 2);
    }
    tried[attempts++] = target;
    lastBackend = target;
    BackendConnection pooled = pool.poll(target);
    if (pooled != null) {
      attachAndSend(pooled);
      return;
    }
    pause(PAUSE_CONNECTING);
    int id = exchangeId;
    ChannelFuture connecting = pool.connect(target);
    connecting.addListener((ChannelFutureListener) f -> onConnected(f, id));
  }

  private void onConnected(ChannelFuture future, int id) {
    if (id != exchangeId || request == null || closing) {
      if (future.isSuccess()) {
        BackendConnection.of(future.channel()).release();
      }
      return;
    }
    resume(PAUSE_CONNECTING);
    if (!future.isSuccess()) {
      log.debug("connect to {} failed: {}", lastBackend, future.cause().toString());
      attemptFailed();
      return;
    }
    attachAndSend(BackendConnection.of(future.channel()));
  }

  private void attachAndSend(BackendConnection c) {
    HttpRequest req = requireNonNull(request, "request");
    backend = c;
    c.attach(this);
    c.backend().requestStarted();
    Channel bc = c.channel();
    requestSent = true;
    bc.write(req, bc.voidPromise());
    if (bodyless) {
      if (requestComplete) {
        bc.write(LastHttpContent.EMPTY_LAST_CONTENT, bc.voidPromise());
        requestForwarded = true;
      }
    } else {
      ArrayDeque<HttpContent> pending = pendingBody;
      if (pending != null) {
        for (HttpContent content; (content = pending.poll()) != null; ) {
          bc.write(content, bc.voidPromise());
          if (content instanceof LastHttpContent) {
            requestForwarded = true;
          }
        }
      }
    }
    if (requestForwarded) {
      armResponseTimer();
    }
    flushToBackend(bc);
  }

  /**
   * The current attempt failed before any response byte reached the client: retry on another backend when nothing
   * was sent yet, or when the request is idempotent and has no body (so it can be sent again whole); else 502.
   */
  private void attemptFailed() {
    cancelResponseTimer();
    boolean replayable = !requestSent || (idempotent && bodyless);
    if (replayable && attempts <= settings.maxRetries()) {
      requestSent = false;
      requestForwarded = false;
      dispatch();
    } else {
      respondError(HttpResponseStatus.BAD_GATEWAY, null, false);
    }
  }

  // ---------------------------------------------------------------- the response

  @Override
  public void onBackendRead(BackendConnection c, Object msg) {
    if (c != backend) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpResponse) {
      onResponseHead(c, (HttpResponse) msg);
    } else if (msg instanceof HttpContent) {
      onResponseContent(c, (HttpContent) msg);
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onResponseHead(BackendConnection c, HttpResponse res) {
    ChannelHandlerContext ctx = ctx();
    if (res.decoderResult().isFailure()) {
      ReferenceCountUtil.release(res);
      log.debug("bad response head from {}: {}", c.backend(), res.decoderResult().cause().toString());
      respondError(HttpResponseStatus.BAD_GATEWAY, null, true);
      return;
    }
    int code = res.status().code();
    if (code < 200 && code != 101) {
      informational = true;
      dropInformational = http10;
      if (!dropInformational) {
        ForwardedHeaders.rewriteResponse(res.headers());
        ctx.write(res, ctx.voidPromise());
      }
      return;
    }
    if (code == 101) {
      if (upgrade) {
        startTunnel(c, res);
      } else {
        ReferenceCountUtil.release(res);
        respondError(HttpResponseStatus.BAD_GATEWAY, null, true);
      }
      return;
    }
    cancelResponseTimer();
    responseStarted = true;
    status = code;
    backendKeepAlive = HttpUtil.isKeepAlive(res);
    HttpHeaders h = res.headers();
    boolean chunked = HttpUtil.isTransferEncodingChunked(res);
    boolean framed = chunked || HttpUtil.isContentLengthSet(res) || hasNoBody(code);
    ForwardedHeaders.rewriteResponse(h);
    if (!clientKeepAlive || !requestComplete && !bodyless || context.draining()) {
      closing = true;
    }
    if (!framed) {
      // Delimited by the backend closing: re-frame as chunked for HTTP/1.1, else close after it.
      backendKeepAlive = false;
      if (http10 || closing) {
        closing = true;
      } else {
        h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
      }
    } else if (chunked && http10) {
      h.remove(HttpHeaderNames.TRANSFER_ENCODING);
      closing = true;
    }
    if (closing) {
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (http10) {
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    h.set(RequestIds.HEADER, requestId);
    res.setProtocolVersion(HttpVersion.HTTP_1_1);
    ctx.write(res, ctx.voidPromise());
  }

  private boolean hasNoBody(int code) {
    HttpRequest req = request;
    return code == 204 || code == 304 || (req != null && HttpMethod.HEAD.equals(req.method()));
  }

  private void onResponseContent(BackendConnection c, HttpContent content) {
    ChannelHandlerContext ctx = ctx();
    boolean last = content instanceof LastHttpContent;
    if (informational) {
      if (dropInformational) {
        content.release();
      } else {
        ctx.write(content, ctx.voidPromise());
      }
      if (last) {
        informational = false;
      }
      return;
    }
    if (!responseStarted) {
      content.release();
      return;
    }
    if (content.decoderResult().isFailure()) {
      content.release();
      log.debug("bad response body from {}: {}", c.backend(), content.decoderResult().cause().toString());
      abortResponse();
      return;
    }
    responseBytes += content.content().readableBytes();
    if (last) {
      finishExchange((LastHttpContent) content);
      return;
    }
    ctx.write(content, ctx.voidPromise());
    if (!ctx.channel().isWritable()) {
      c.channel().config().setAutoRead(false);
    }
  }

  private void finishExchange(LastHttpContent last) {
    ChannelHandlerContext ctx = ctx();
    BackendConnection c = backend;
    backend = null;
    cancelResponseTimer();
    if (c != null) {
      c.backend().requestEnded();
      if (backendKeepAlive && requestForwarded) {
        c.release();
      } else {
        c.discard();
      }
    }
    logAccess();
    boolean close = closing;
    endExchange();
    if (close) {
      ctx.writeAndFlush(last).addListener(ChannelFutureListener.CLOSE);
    } else {
      ctx.writeAndFlush(last, ctx.voidPromise());
      drainQueue();
    }
  }

  @Override
  public void onBackendReadComplete(BackendConnection c) {
    if (c == backend) {
      ctx().flush();
    }
  }

  @Override
  public void onBackendWritabilityChanged(BackendConnection c) {
    if (c == backend && c.channel().isWritable()) {
      resume(PAUSE_BACKEND_FULL);
    }
  }

  @Override
  public void onBackendClosed(BackendConnection c, @Nullable Throwable cause) {
    if (c != backend) {
      return;
    }
    backend = null;
    c.backend().requestEnded();
    if (cause != null) {
      log.debug("backend connection to {} failed: {}", c.backend(), cause.toString());
    }
    if (responseStarted) {
      abortResponse();
    } else {
      attemptFailed();
    }
  }

  private void onResponseTimeout() {
    responseTimer = null;
    if (request != null && !responseStarted) {
      log.debug("no response from {} within response_timeout", lastBackend);
      respondError(HttpResponseStatus.GATEWAY_TIMEOUT, null, false);
    }
  }

  private void armResponseTimer() {
    cancelResponseTimer();
    responseTimer = ctx().executor().schedule(onResponseTimeout, settings.responseTimeoutNanos(),
        TimeUnit.NANOSECONDS);
  }

  private void cancelResponseTimer() {
    ScheduledFuture<?> t = responseTimer;
    if (t != null) {
      responseTimer = null;
      t.cancel(false);
    }
  }

  // ---------------------------------------------------------------- WebSocket

  private void startTunnel(BackendConnection c, HttpResponse res) {
    ChannelHandlerContext ctx = ctx();
    cancelResponseTimer();
    responseStarted = true;
    status = 101;
    backend = null;
    c.detach();
    c.backend().requestEnded();
    res.headers().set(RequestIds.HEADER, requestId);
    ctx.writeAndFlush(res, ctx.voidPromise());
    logAccess();
    endExchange();
    releaseQueued();
    TunnelHandler.install(ctx.channel(), c, settings.idleTimeoutNanos());
  }

  private static boolean isWebSocketUpgrade(HttpHeaders headers) {
    return headers.containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)
        && headers.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
  }

  // ---------------------------------------------------------------- answers the balancer makes itself

  /**
   * Answers the current request with the contract's JSON for {@code status}, or cuts the connection when the
   * backend's response already began.
   */
  private void respondError(HttpResponseStatus errorStatus, @Nullable HttpHeaders extra, boolean forceClose) {
    if (responseStarted) {
      abortResponse();
      return;
    }
    ChannelHandlerContext ctx = ctx();
    abandonBackend();
    cancelResponseTimer();
    releasePendingBody();
    status = errorStatus.code();
    boolean unread = !requestComplete && !bodyless;
    boolean close = forceClose || closing || !clientKeepAlive || context.draining()
        || (unread && !swallowable());
    FullHttpResponse response = ErrorResponses.create(errorStatus, close, requestId);
    if (extra != null) {
      response.headers().add(extra);
    }
    logAccess();
    endExchange();
    if (close) {
      closing = true;
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    } else if (unread) {
      ctx.writeAndFlush(response, ctx.voidPromise());
      swallowBudget = MAX_SWALLOW - requestBytes;
    } else {
      ctx.writeAndFlush(response, ctx.voidPromise());
      drainQueue();
    }
  }

  /** Whether the rest of the current request's body is small enough to read and drop. */
  private boolean swallowable() {
    HttpRequest req = request;
    if (req == null || HttpUtil.isTransferEncodingChunked(req)) {
      return req != null;
    }
    return HttpUtil.getContentLength(req, 0L) <= MAX_SWALLOW;
  }

  /** Drops a piece of an answered request's body; the next request is served once the body ended. */
  private void swallow(HttpContent content) {
    swallowBudget -= content.content().readableBytes();
    boolean last = content instanceof LastHttpContent;
    content.release();
    if (swallowBudget < 0) {
      swallowBudget = -1;
      closing = true;
      ctx().close();
    } else if (last) {
      swallowBudget = -1;
      drainQueue();
    }
  }

  /** The response cannot be completed: the client connection is closed, the backend connection discarded. */
  private void abortResponse() {
    abandonBackend();
    logAccess();
    endExchange();
    closing = true;
    ctx().close();
  }

  /** Discards the backend connection in use, if any: its state is unknown. */
  private void abandonBackend() {
    BackendConnection c = backend;
    if (c != null) {
      backend = null;
      c.backend().requestEnded();
      c.discard();
    }
  }

  private void endExchange() {
    cancelResponseTimer();
    releasePendingBody();
    request = null;
    informational = false;
    wroteToBackend = false;
    resume(PAUSE_CONNECTING | PAUSE_BACKEND_FULL);
  }

  // ---------------------------------------------------------------- pipelining and reading

  private void drainQueue() {
    if (drainingQueue) {
      return;
    }
    drainingQueue = true;
    try {
      ArrayDeque<Object> q = queued;
      while (q != null && !q.isEmpty() && !closing) {
        if (q.peekFirst() instanceof HttpRequest && request != null) {
          return;
        }
        dispatchInbound(q.pollFirst());
      }
    } finally {
      drainingQueue = false;
    }
    if (queued == null || queued.isEmpty()) {
      resume(PAUSE_PIPELINE);
    }
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

  private void releasePendingBody() {
    ArrayDeque<HttpContent> pending = pendingBody;
    if (pending != null) {
      for (HttpContent content; (content = pending.poll()) != null; ) {
        content.release();
      }
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

  // ---------------------------------------------------------------- access log

  private void logAccess() {
    HttpRequest req = request;
    if (req == null || !context.accessLog().enabled()) {
      return;
    }
    Backend b = lastBackend;
    context.accessLog().log(new AccessLogMessage.Builder()
        .client(clientIp.toString(), clientPort)
        .request(req.method().name(), req.uri(), http10 ? "1.0" : "1.1")
        .status(status)
        .bytes(requestBytes, responseBytes)
        .durationNanos(System.nanoTime() - startNanos)
        .requestId(requestId)
        .backend(b == null ? "-" : b.url(), attempts)
        .build());
  }

  /** RFC 9110 section 9.2.2: methods whose repetition has the effect of one. */
  private static boolean isIdempotent(HttpMethod method) {
    return HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method) || HttpMethod.PUT.equals(method)
        || HttpMethod.DELETE.equals(method) || HttpMethod.OPTIONS.equals(method)
        || HttpMethod.TRACE.equals(method);
  }
}
