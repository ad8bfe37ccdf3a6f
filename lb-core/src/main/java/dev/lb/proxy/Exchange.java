package dev.lb.proxy;

import static java.util.Objects.requireNonNull;

import dev.lb.backend.Backend;
import dev.lb.balance.PickContext;
import dev.lb.log.AccessLogMessage;
import dev.lb.pool.BackendConnection;
import dev.lb.transport.FailureReasons;
import dev.lb.pool.ConnectionPool;
import dev.lb.pool.WaitQueue;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
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
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jspecify.annotations.Nullable;

/**
 * One request's way to a backend and back, for the client connection of its {@link ProxyHandler}: picks a backend,
 * borrows or opens a connection to it, sends the request and streams its body, retries as the contract allows,
 * relays the response (re-framed where the client needs it), answers failures with the contract's JSON, turns into
 * a tunnel after a WebSocket upgrade, and logs the exchange. One instance per client connection, reset for each
 * request, so serving a request allocates no exchange object.
 *
 * <p>Buffers: request content handed to {@link #onRequestContent} is written to the backend (whose encoder releases
 * it), held while a connection is being made, or released; backend messages are written to the client or released.
 */
final class Exchange implements BackendConnection.Listener, PickContext {
  private static final Logger log = LogManager.getLogger(Exchange.class);

  /** Status logged for an exchange the client abandoned before its response began (as nginx does). */
  static final int CLIENT_CLOSED = 499;

  private final ProxyHandler handler;
  private final ProxyContext context;
  private final ConnectionPool pool;
  private final Runnable onResponseTimeout = this::onResponseTimeout;

  private @Nullable HttpRequest request;
  private ProxySettings settings;
  private int id;
  private CharSequence requestId = "-";
  private long startNanos;
  private boolean http10;
  private boolean bodyless;
  private boolean idempotent;
  private boolean upgrade;
  private boolean clientKeepAlive;
  /** Whether the client connection closes after this exchange's response. */
  private boolean closeAfter;
  private boolean requestComplete;
  private boolean requestSent;
  private boolean requestForwarded;
  private boolean wroteToBackend;
  private @Nullable ArrayDeque<HttpContent> pendingBody;
  private @Nullable BackendConnection backend;
  private @Nullable Backend lastBackend;
  /** The first backend tried; later ones in {@link #moreTried}, allocated only by a retry. */
  private @Nullable Backend firstTried;
  private Backend @Nullable [] moreTried;
  private int attempts;
  /** Backends at their {@code max_connections} met by the dispatch under way; allocated only when one is. */
  private Backend @Nullable [] full;
  private int fullCount;
  /** Whether the request is counted by the retry budget as in flight: 0 no, 1 as a request, 2 as a retry. */
  private int budgeted;
  /** The queue entry while the request waits for a backend connection, else null. */
  private @Nullable Queued queued;
  /**
   * A backend's final response head received but not yet written to the client: it goes out, with the body pieces
   * of the same read ({@link #heldContent}), at the end of that read or with the response's end, so that a body
   * broken in the read that brought the head still gets the client a 502 (or a retry) instead of half a response.
   */
  private @Nullable HttpResponse heldHead;
  /** Body pieces read with the held head; allocated at the first response that needs it, then kept. */
  private @Nullable ArrayDeque<HttpContent> heldContent;
  private boolean responseStarted;
  private boolean informational;
  private boolean dropInformational;
  private boolean backendKeepAlive;
  private int status;
  private long requestBytes;
  private long responseBytes;
  /** When the last attempt's request went to its backend, or 0 when none did. */
  private long attemptNanos;
  /** Whether the response (or what was sent of it) came from a backend rather than from lb. */
  private boolean fromBackend;
  /**
   * The response timeout, lazily: one task per connection, re-armed only when it fires early (like Netty's
   * IdleStateHandler), so that forwarding a request schedules nothing. {@code responseDeadline} is 0 when no
   * response is awaited.
   */
  private @Nullable ScheduledFuture<?> responseTimer;
  private long responseTimerAt;
  private long responseDeadline;

  Exchange(ProxyHandler handler, ProxyContext context, ConnectionPool pool) {
    this.handler = handler;
    this.context = context;
    this.pool = pool;
    this.settings = context.settings();
  }

  /** Whether a request is being served. */
  boolean active() {
    return request != null;
  }

  /** Whether the current request has more body to come from the client. */
  boolean awaitingBody() {
    return request != null && !requestComplete;
  }

  // ---------------------------------------------------------------- the request

  void start(HttpRequest req) {
    id++;
    request = req;
    settings = context.settings();
    startNanos = System.nanoTime();
    attempts = 0;
    status = 0;
    requestBytes = 0;
    responseBytes = 0;
    lastBackend = null;
    responseStarted = false;
    fromBackend = false;
    attemptNanos = 0;
    requestComplete = false;
    requestSent = false;
    requestForwarded = false;
    closeAfter = false;
    http10 = req.protocolVersion().minorVersion() == 0;
    // Forwarded in lb's own version (RFC 9110 section 2.5): an HTTP/1.2 request goes on as HTTP/1.1.
    req.setProtocolVersion(http10 ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1);
    // RequestGuard leaves no unparseable Content-Length on a request it passes on, refused or not.
    bodyless = !HttpUtil.isTransferEncodingChunked(req) && HttpUtil.getContentLength(req, 0L) <= 0;
    if (req instanceof RejectedRequest) {
      RejectedRequest rejected = (RejectedRequest) req;
      requestId = RequestIds.generate();
      clientKeepAlive = HttpUtil.isKeepAlive(req);
      respondError(rejected.status(), rejected.responseHeaders(), rejected.close());
      return;
    }
    HttpHeaders headers = req.headers();
    context.retryBudget().requestStarted();
    budgeted = 1;
    clientKeepAlive = HttpUtil.isKeepAlive(req) && !context.draining();
    idempotent = isIdempotent(req.method());
    upgrade = isWebSocketUpgrade(headers);
    requestId = RequestIds.ensure(headers);
    ForwardedHeaders.rewriteRequest(headers, handler.clientIp(), upgrade);
    dispatch();
  }

  void onRequestContent(HttpContent content) {
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
    if (!writeToBackend(c, content)) {
      return;
    }
    if (last) {
      requestForwarded = true;
      armResponseTimer();
    }
    flushToBackend(c);
  }

  /**
   * Writes {@code msg} to {@code c}; whether {@code c} is still this exchange's connection afterwards. A write to a
   * connection that already closed fails at once, and the failure ends this attempt (and may start another) before
   * the write returns: after it, nothing more is done for a connection no longer in use.
   */
  private boolean writeToBackend(BackendConnection c, Object msg) {
    Channel bc = c.channel();
    bc.write(msg, bc.voidPromise());
    return backend == c;
  }

  /** Flushes now, or at the end of the client's read burst when inside one; pauses the client if the backend is full. */
  private void flushToBackend(BackendConnection c) {
    Channel bc = c.channel();
    if (handler.inClientRead()) {
      wroteToBackend = true;
    } else {
      bc.flush();
    }
    // A flush that failed may have ended the exchange: a closed connection is not writable, but nothing waits on it.
    if (backend == c && !bc.isWritable()) {
      handler.pause(ProxyHandler.PAUSE_BACKEND_FULL);
    }
  }

  /** The client's read burst ended: flush what was written to the backend during it. */
  void clientReadComplete() {
    BackendConnection c = backend;
    if (wroteToBackend && c != null) {
      c.channel().flush();
    }
    wroteToBackend = false;
  }

  /** The client can take more: the backend may be read again. */
  void clientWritable() {
    BackendConnection c = backend;
    if (c != null) {
      c.channel().config().setAutoRead(true);
    }
  }

  /** The client connection closed: the exchange, if any, is abandoned. */
  void clientClosed() {
    if (request != null) {
      if (!responseStarted) {
        status = CLIENT_CLOSED;
      }
      abandonBackend();
      logAccess();
      end();
    }
  }

  /** The request turned out bad in its body ({@link RequestRejectedException}). */
  void rejectBody(HttpResponseStatus rejection) {
    respondError(rejection, null, true);
  }

  // ---------------------------------------------------------------- choosing and reaching a backend

  @Override
  public boolean tried(Backend candidate) {
    Backend[] f = full;
    if (f != null) {
      for (int i = 0; i < fullCount; i++) {
        if (f[i] == candidate) {
          return true;
        }
      }
    }
    if (attempts == 0) {
      return false;
    }
    if (firstTried == candidate) {
      return true;
    }
    Backend[] more = moreTried;
    if (more != null) {
      for (int i = 0; i < attempts - 1; i++) {
        if (more[i] == candidate) {
          return true;
        }
      }
    }
    return false;
  }

  @Override
  public CharSequence clientAddress() {
    return handler.clientIp();
  }

  @Override
  public @Nullable CharSequence header(CharSequence name) {
    HttpRequest req = request;
    return req == null ? null : req.headers().get(name);
  }

  /**
   * Sends the request to a backend the algorithm picks: over an idle pooled connection, else a new one when the
   * backend is under its {@code max_connections}; a backend at its cap is skipped for another the algorithm allows,
   * and when every one is at its cap the request waits in the queue.
   */
  private void dispatch() {
    fullCount = 0;
    for (int rounds = 0; ; rounds++) {
      Backend target = context.routing().picker().pick(this);
      if (target == null) {
        if (fullCount > 0 && rounds < 64) {
          if (enqueue()) {
            return;
          }
          fullCount = 0;
          continue;
        }
        respondError(fullCount > 0 || attempts == 0 ? HttpResponseStatus.SERVICE_UNAVAILABLE
            : HttpResponseStatus.BAD_GATEWAY, null, false);
        return;
      }
      BackendConnection pooled = pool.poll(target);
      if (pooled != null) {
        recordAttempt(target);
        attachAndSend(pooled);
        return;
      }
      ChannelFuture connecting = pool.connect(target);
      if (connecting != null) {
        recordAttempt(target);
        awaitConnect(connecting);
        return;
      }
      markFull(target);
    }
  }

  private void markFull(Backend target) {
    Backend[] f = full;
    if (f == null) {
      f = full = new Backend[4];
    } else if (fullCount == f.length) {
      f = full = Arrays.copyOf(f, f.length * 2);
    }
    f[fullCount++] = target;
  }

  private void awaitConnect(ChannelFuture connecting) {
    handler.pause(ProxyHandler.PAUSE_CONNECTING);
    int current = id;
    connecting.addListener((ChannelFutureListener) f -> onConnected(f, current));
  }

  private void recordAttempt(Backend target) {
    fullCount = 0;
    if (attempts == 0) {
      firstTried = target;
    } else {
      Backend[] more = moreTried;
      if (more == null) {
        more = moreTried = new Backend[4];
      } else if (attempts - 1 == more.length) {
        more = moreTried = Arrays.copyOf(more, more.length * 2);
      }
      more[attempts - 1] = target;
    }
    attempts++;
    lastBackend = target;
  }

  // ---------------------------------------------------------------- waiting for a capped backend

  /**
   * Every backend the request may use is at its cap: it waits in the queue (the client is not read meanwhile) until
   * a connection frees up or {@code proxy.queue.timeout} passes, or is answered 503 at once when the queue is full.
   *
   * @return false when a slot freed up meanwhile and the dispatch should look again
   */
  private boolean enqueue() {
    WaitQueue q = pool.queue();
    Queued entry = new Queued(Arrays.copyOf(requireNonNull(full, "full"), fullCount));
    WaitQueue.Enqueued outcome = q == null ? WaitQueue.Enqueued.FULL : q.enqueue(entry);
    switch (outcome) {
      case RETRY:
        return false;
      case FULL:
        context.metrics().queueRejected(true);
        fullCount = 0;
        respondError(ErrorResponses.Variant.QUEUE_FULL);
        return true;
      default:
        fullCount = 0;
        queued = entry;
        handler.pause(ProxyHandler.PAUSE_CONNECTING);
        entry.timeout = handler.ctx().executor().schedule(
            () -> onQueueTimeout(entry), settings.queue().timeoutNanos(), TimeUnit.NANOSECONDS);
        return true;
    }
  }

  private void onQueueTimeout(Queued entry) {
    WaitQueue q = pool.queue();
    if (queued != entry || q == null || !q.remove(entry)) {
      return;
    }
    queued = null;
    entry.stopWaiting();
    context.metrics().queueRejected(false);
    respondError(ErrorResponses.Variant.QUEUE_TIMEOUT);
  }

  /** The queue served the request: a slot of {@code backend}, with an idle connection or one to open. */
  private void onGranted(Queued entry, Backend backend, @Nullable BackendConnection connection) {
    if (queued != entry || request == null || handler.closing()) {
      giveBack(backend, connection);
      return;
    }
    queued = null;
    entry.stopWaiting();
    handler.resume(ProxyHandler.PAUSE_CONNECTING);
    if (connection != null && !connection.channel().isActive()) {
      // Closed on its way here: its slot went back through the queue; look again.
      dispatch();
      return;
    }
    recordAttempt(backend);
    if (connection != null) {
      attachAndSend(connection);
    } else {
      awaitConnect(pool.connectReserved(backend));
    }
  }

  private void giveBack(Backend backend, @Nullable BackendConnection connection) {
    if (connection != null) {
      connection.release();
    } else {
      WaitQueue q = pool.queue();
      if (q != null) {
        q.slotFreed(backend);
      } else {
        backend.releaseConnection();
      }
    }
  }

  /** Leaves the queue, if waiting in it (the exchange ends); a grant already on its way is given back on arrival. */
  private void leaveQueue() {
    Queued entry = queued;
    if (entry != null) {
      queued = null;
      WaitQueue q = pool.queue();
      if (q != null && q.remove(entry)) {
        entry.stopWaiting();
      } else {
        entry.cancelTimeout();
      }
    }
  }

  /** This exchange's place in the queue. */
  private final class Queued extends WaitQueue.Waiter {
    @Nullable ScheduledFuture<?> timeout;

    Queued(Backend[] candidates) {
      super(handler.ctx().executor(), candidates, System.nanoTime());
    }

    @Override
    protected void granted(Backend backend, @Nullable BackendConnection connection) {
      onGranted(this, backend, connection);
    }

    /** The wait is over, whatever ended it: its timeout is cancelled and its length recorded. */
    void stopWaiting() {
      cancelTimeout();
      context.metrics().queueWait(System.nanoTime() - since());
    }

    void cancelTimeout() {
      ScheduledFuture<?> t = timeout;
      if (t != null) {
        t.cancel(false);
      }
    }
  }

  private void onConnected(ChannelFuture future, int forExchange) {
    if (forExchange != id || request == null || handler.closing()) {
      if (future.isSuccess()) {
        BackendConnection.of(future.channel()).release();
      }
      return;
    }
    handler.resume(ProxyHandler.PAUSE_CONNECTING);
    if (!future.isSuccess()) {
      Backend failed = requireNonNull(lastBackend, "lastBackend");
      failed.health().trafficFailed(FailureReasons.describe(future.cause()));
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
    requestSent = true;
    if (context.accessLog().enabled()) {
      attemptNanos = System.nanoTime();
    }
    if (!writeToBackend(c, req)) {
      return;
    }
    if (bodyless) {
      if (requestComplete) {
        if (!writeToBackend(c, LastHttpContent.EMPTY_LAST_CONTENT)) {
          return;
        }
        requestForwarded = true;
      }
    } else {
      ArrayDeque<HttpContent> pending = pendingBody;
      if (pending != null) {
        for (HttpContent content; (content = pending.poll()) != null; ) {
          if (!writeToBackend(c, content)) {
            return;
          }
          if (content instanceof LastHttpContent) {
            requestForwarded = true;
          }
        }
      }
    }
    if (requestForwarded) {
      armResponseTimer();
    }
    flushToBackend(c);
  }

  /**
   * The current attempt failed before any response byte reached the client: retry on another backend when nothing
   * was sent yet, or when the request is idempotent and has no body (so it can be sent again whole), even if the
   * failed backend had sent part of a response or a malformed one (none of it went on); else 502.
   */
  private void attemptFailed() {
    cancelResponseTimer();
    boolean replayable = !requestSent || (idempotent && bodyless);
    if (!replayable || attempts > settings.maxRetries()) {
      respondError(HttpResponseStatus.BAD_GATEWAY, null, false);
      return;
    }
    // Retry number `attempts` (1 for the first): at once for the first, after a jittered backoff for later ones,
    // within the response timeout counted from the request's start, and within the retry budget.
    long wait = RetryBudget.backoffNanos(settings.retries(), attempts);
    if (wait > 0 && System.nanoTime() + wait - startNanos >= settings.responseTimeoutNanos()) {
      context.metrics().retrySkipped(false);
      respondError(HttpResponseStatus.BAD_GATEWAY, null, false);
      return;
    }
    if (budgeted == 1) {
      if (!context.retryBudget().tryStartRetry(settings.retries())) {
        context.metrics().retrySkipped(true);
        respondError(HttpResponseStatus.BAD_GATEWAY, null, false);
        return;
      }
      budgeted = 2;
    }
    Backend failed = lastBackend;
    if (failed != null) {
      failed.meters().retried();
    }
    requestSent = false;
    requestForwarded = false;
    if (wait == 0) {
      dispatch();
      return;
    }
    handler.pause(ProxyHandler.PAUSE_CONNECTING);
    int current = id;
    handler.ctx().executor().schedule(() -> {
      if (current == id && request != null && !handler.closing()) {
        handler.resume(ProxyHandler.PAUSE_CONNECTING);
        dispatch();
      }
    }, wait, TimeUnit.NANOSECONDS);
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
    ChannelHandlerContext ctx = handler.ctx();
    if (res.decoderResult().isFailure()) {
      ReferenceCountUtil.release(res);
      log.debug("bad response head from {}: {}", c.backend(), res.decoderResult().cause().toString());
      c.backend().health().trafficFailed(FailureReasons.describe(res.decoderResult().cause()));
      // The backend connection is discarded; the request is retried when the contract allows, else 502 (the
      // client's connection stays usable either way).
      abandonBackend();
      attemptFailed();
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
        // Switching protocols unasked: as malformed as any other bad head; retried when the request can be.
        ReferenceCountUtil.release(res);
        log.debug("unsolicited 101 from {}", c.backend());
        c.backend().health().trafficFailed("unsolicited 101 Switching Protocols");
        abandonBackend();
        attemptFailed();
      }
      return;
    }
    cancelResponseTimer();
    responseStarted = true;
    fromBackend = true;
    status = code;
    c.backend().health().response(code);
    boolean keepAlive = HttpUtil.isKeepAlive(res);
    boolean framed = frameResponse(res);
    backendKeepAlive = keepAlive && framed;
    res.headers().set(RequestIds.HEADER, requestId);
    heldHead = res;
  }

  /** Writes the held response head and the body pieces held with it, if any. */
  private void writeHeldHead(ChannelHandlerContext ctx) {
    HttpResponse head = heldHead;
    if (head != null) {
      heldHead = null;
      ctx.write(head, ctx.voidPromise());
      ArrayDeque<HttpContent> held = heldContent;
      if (held != null) {
        for (HttpContent c; (c = held.poll()) != null; ) {
          ctx.write(c, ctx.voidPromise());
        }
      }
    }
  }

  /** Releases the held response head and body pieces, if any. */
  private void releaseHeld() {
    HttpResponse head = heldHead;
    if (head != null) {
      heldHead = null;
      ReferenceCountUtil.release(head);
    }
    ArrayDeque<HttpContent> held = heldContent;
    if (held != null) {
      for (HttpContent c; (c = held.poll()) != null; ) {
        c.release();
      }
    }
  }

  /**
   * The backend failed after its response head, before any of it reached the client: the head is dropped and the
   * attempt failed like one with a malformed head (a retry when the request can be sent again, else 502).
   */
  private void dropHeldHead(BackendConnection c, String why) {
    releaseHeld();
    responseBytes = 0;
    responseStarted = false;
    fromBackend = false;
    status = 0;
    c.backend().health().trafficFailed(why);
    abandonBackend();
    attemptFailed();
  }

  /**
   * Prepares the response head for the client: hop-by-hop headers out, framing the client can read, and
   * {@code Connection} saying whether the connection stays open, which it does unless the client or the drain says
   * otherwise, the request body is still arriving, or the body can only be delimited by closing.
   *
   * @return whether the backend connection stays usable after this response (false when the backend delimits the
   *     body by closing)
   */
  private boolean frameResponse(HttpResponse res) {
    HttpHeaders h = res.headers();
    boolean chunked = HttpUtil.isTransferEncodingChunked(res);
    boolean framed = chunked || HttpUtil.isContentLengthSet(res) || hasNoBody(res.status().code());
    ForwardedHeaders.rewriteResponse(h);
    closeAfter = !clientKeepAlive || (!requestComplete && !bodyless) || context.draining();
    if (!framed) {
      // Delimited by the backend closing: re-framed as chunked for HTTP/1.1, else the client connection closes too.
      if (http10 || closeAfter) {
        closeAfter = true;
      } else {
        h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
      }
    } else if (chunked && http10) {
      h.remove(HttpHeaderNames.TRANSFER_ENCODING);
      closeAfter = true;
    }
    if (closeAfter) {
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (http10) {
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    res.setProtocolVersion(HttpVersion.HTTP_1_1);
    return framed;
  }

  private boolean hasNoBody(int code) {
    HttpRequest req = request;
    return code == 204 || code == 304 || (req != null && HttpMethod.HEAD.equals(req.method()));
  }

  private void onResponseContent(BackendConnection c, HttpContent content) {
    ChannelHandlerContext ctx = handler.ctx();
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
      if (heldHead != null) {
        dropHeldHead(c, FailureReasons.describe(content.decoderResult().cause()));
      } else {
        abortResponse();
      }
      return;
    }
    responseBytes += content.content().readableBytes();
    if (last) {
      writeHeldHead(ctx);
      // Fields that must not be trailers (framing, routing, credentials...) are dropped, as for requests.
      TrailerFields.strip(((LastHttpContent) content).trailingHeaders());
      finish((LastHttpContent) content);
      return;
    }
    if (heldHead != null) {
      ArrayDeque<HttpContent> held = heldContent;
      if (held == null) {
        held = heldContent = new ArrayDeque<>(4);
      }
      held.add(content);
      return;
    }
    ctx.write(content, ctx.voidPromise());
    if (!ctx.channel().isWritable()) {
      c.channel().config().setAutoRead(false);
    }
  }

  private void finish(LastHttpContent last) {
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
    boolean close = closeAfter;
    boolean unread = !requestComplete && !bodyless;
    end();
    handler.exchangeEnded(last, close, -1, close && unread);
  }

  @Override
  public void onBackendReadComplete(BackendConnection c) {
    if (c == backend) {
      ChannelHandlerContext ctx = handler.ctx();
      writeHeldHead(ctx);
      ctx.flush();
    }
  }

  @Override
  public void onBackendWritabilityChanged(BackendConnection c) {
    if (c == backend && c.channel().isWritable()) {
      handler.resume(ProxyHandler.PAUSE_BACKEND_FULL);
    }
  }

  @Override
  public void onBackendClosed(BackendConnection c, @Nullable Throwable cause) {
    if (c != backend) {
      return;
    }
    if (heldHead != null) {
      // Closed in the read that brought the head: nothing reached the client yet.
      dropHeldHead(c, cause == null ? "connection closed during the response" : FailureReasons.describe(cause));
      return;
    }
    backend = null;
    c.backend().requestEnded();
    if (responseStarted) {
      abortResponse();
    } else {
      c.backend().health().trafficFailed(
          cause == null ? "connection closed before a response" : FailureReasons.describe(cause));
      attemptFailed();
    }
  }

  private void onResponseTimeout() {
    responseTimer = null;
    long deadline = responseDeadline;
    if (deadline == 0 || request == null || responseStarted) {
      return;
    }
    long left = deadline - handler.ctx().executor().ticker().nanoTime();
    if (left > 0) {
      scheduleResponseTimer(deadline, left);
      return;
    }
    responseDeadline = 0;
    Backend slow = lastBackend;
    if (slow != null) {
      slow.health().trafficFailed("no response within " + settings.responseTimeoutNanos() / 1_000_000 + " ms");
    }
    respondError(HttpResponseStatus.GATEWAY_TIMEOUT, null, false);
  }

  /** The request is with the backend: its response head is due within {@code response_timeout}. */
  private void armResponseTimer() {
    long timeout = settings.responseTimeoutNanos();
    long deadline = handler.ctx().executor().ticker().nanoTime() + timeout;
    responseDeadline = deadline;
    ScheduledFuture<?> pending = responseTimer;
    if (pending == null) {
      scheduleResponseTimer(deadline, timeout);
    } else if (deadline - responseTimerAt < 0) {
      // A shorter timeout came with a reload: the pending task would fire too late.
      pending.cancel(false);
      scheduleResponseTimer(deadline, timeout);
    }
  }

  private void scheduleResponseTimer(long deadline, long delay) {
    responseTimerAt = deadline;
    responseTimer = handler.ctx().executor().schedule(onResponseTimeout, delay, TimeUnit.NANOSECONDS);
  }

  /** No response is awaited any more; a pending task finds nothing to do when it fires. */
  private void cancelResponseTimer() {
    responseDeadline = 0;
  }

  // ---------------------------------------------------------------- WebSocket

  private void startTunnel(BackendConnection c, HttpResponse res) {
    ChannelHandlerContext ctx = handler.ctx();
    cancelResponseTimer();
    responseStarted = true;
    fromBackend = true;
    status = 101;
    backend = null;
    c.detach();
    c.backend().requestEnded();
    res.headers().set(RequestIds.HEADER, requestId);
    ctx.writeAndFlush(res, ctx.voidPromise());
    logAccess();
    end();
    handler.tunnelled();
    TunnelHandler.install(ctx.channel(), c, settings.idleTimeoutNanos());
  }

  private static boolean isWebSocketUpgrade(HttpHeaders headers) {
    return headers.containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)
        && headers.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
  }

  // ---------------------------------------------------------------- answers the balancer makes itself

  /** As {@link #respondError(HttpResponseStatus, HttpHeaders, boolean)}, with the variant's status and message. */
  private void respondError(ErrorResponses.Variant variant) {
    respondError(variant.status(), variant, null, false);
  }

  /**
   * Answers the current request with the contract's JSON for {@code errorStatus}, or cuts the connection when the
   * backend's response already began.
   */
  private void respondError(HttpResponseStatus errorStatus, @Nullable HttpHeaders extra, boolean forceClose) {
    respondError(errorStatus, null, extra, forceClose);
  }

  private void respondError(HttpResponseStatus errorStatus, ErrorResponses.@Nullable Variant variant,
      @Nullable HttpHeaders extra, boolean forceClose) {
    if (responseStarted) {
      abortResponse();
      return;
    }
    abandonBackend();
    status = errorStatus.code();
    boolean unread = !requestComplete && !bodyless;
    boolean close = forceClose || handler.closing() || !clientKeepAlive || context.draining()
        || (unread && !handler.canSwallow(request));
    FullHttpResponse response = variant != null
        ? ErrorResponses.create(variant, close, requestId) : ErrorResponses.create(errorStatus, close, requestId);
    if (extra != null) {
      response.headers().add(extra);
    }
    responseBytes = response.content().readableBytes();
    logAccess();
    long bodyRead = requestBytes;
    end();
    // A close after lb's own answer lingers: the client may be sending a body or more requests (a refused head's).
    handler.exchangeEnded(response, close, unread ? bodyRead : -1, true);
  }

  /** The response cannot be completed: the client connection is closed, the backend connection discarded. */
  private void abortResponse() {
    abandonBackend();
    logAccess();
    end();
    handler.abort();
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

  private void end() {
    cancelResponseTimer();
    letGo();
    fullCount = 0;
    request = null;
    requestId = "-";
    informational = false;
    wroteToBackend = false;
    handler.resume(ProxyHandler.PAUSE_CONNECTING | ProxyHandler.PAUSE_BACKEND_FULL);
  }

  /** Releases what the exchange holds; for a handler leaving its pipeline. */
  void release() {
    responseDeadline = 0;
    ScheduledFuture<?> t = responseTimer;
    if (t != null) {
      responseTimer = null;
      t.cancel(false);
    }
    letGo();
  }

  /**
   * Lets go of what the request holds, however it ended: its place in the queue, its count in the retry budget, a
   * held response head and body, and a pending request body.
   */
  private void letGo() {
    leaveQueue();
    if (budgeted != 0) {
      context.retryBudget().requestEnded(budgeted == 2);
      budgeted = 0;
    }
    releaseHeld();
    releasePendingBody();
  }

  private void releasePendingBody() {
    ArrayDeque<HttpContent> pending = pendingBody;
    if (pending != null) {
      for (HttpContent content; (content = pending.poll()) != null; ) {
        content.release();
      }
    }
  }

  // ---------------------------------------------------------------- access log

  /** Records the finished exchange: its meters always, its access-log entry when the log is on. */
  private void logAccess() {
    HttpRequest req = request;
    if (req == null) {
      return;
    }
    long now = System.nanoTime();
    long duration = now - startNanos;
    Backend b = lastBackend;
    (fromBackend && b != null ? b.meters() : context.metrics().none()).request(status, duration);
    if (!context.accessLog().enabled()) {
      return;
    }
    context.accessLog().log(new AccessLogMessage.Builder()
        .client(handler.clientIp().toString(), handler.clientPort())
        .request(req.method().name(), req.uri(), http10 ? "1.0" : "1.1")
        .status(status)
        .bytes(requestBytes, responseBytes)
        .durationNanos(duration)
        .upstreamNanos(attemptNanos == 0 ? -1 : now - attemptNanos)
        .rateLimit(rateLimitOutcome(req))
        .requestId(requestId)
        .backend(b == null ? "-" : b.url(), attempts)
        .build());
  }

  /** {@code limited} for a 429 from the limiter, {@code allowed} when rate limiting is on, else {@code -}. */
  private String rateLimitOutcome(HttpRequest req) {
    if (req instanceof RejectedRequest && ((RejectedRequest) req).status().code() == 429) {
      return "limited";
    }
    return context.rateLimited() ? "allowed" : "-";
  }

  /** RFC 9110 section 9.2.2: methods whose repetition has the effect of one. */
  private static boolean isIdempotent(HttpMethod method) {
    return HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method) || HttpMethod.PUT.equals(method)
        || HttpMethod.DELETE.equals(method) || HttpMethod.OPTIONS.equals(method)
        || HttpMethod.TRACE.equals(method);
  }
}
