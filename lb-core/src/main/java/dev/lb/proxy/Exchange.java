package dev.lb.proxy;

import static java.util.Objects.requireNonNull;

import dev.lb.backend.Backend;
import dev.lb.balance.PickContext;
import dev.lb.pool.BackendConnection;
import dev.lb.pool.ConnectionPool;
import dev.lb.pool.RawRequest;
import dev.lb.pool.WaitQueue;
import dev.lb.route.Route;
import dev.lb.upstream.Upstream;
import dev.lb.transport.FailureReasons;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
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
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One request's way to a backend and back, for one client connection: it picks a backend, borrows or opens a
 * connection to it (or waits in the {@link QueueWait queue} when every backend is at its cap), sends the request and
 * streams its body, retries as {@link Attempts} allows, hands the response to the {@link ResponseRelay}, answers
 * failures with the contract's JSON, turns into a tunnel after a WebSocket upgrade, and leaves an
 * {@link AccessRecord}; the {@link RequestWriter} takes the request to the backend. The client connection is seen
 * through {@link ClientSide}. A connection takes an exchange
 * with its first request and, once idle, gives it back to its event loop's {@link Spares} for the next connection
 * with a request: serving a request allocates no exchange object, and an idle connection holds none.
 *
 * <p>Buffers: request content handed to {@link #onRequestContent} goes to the writer, which writes, holds or releases
 * it; backend messages go to the relay, which writes them to the client or releases them.
 */
final class Exchange implements BackendConnection.Listener, PickContext, QueueWait.Owner {
  private ClientSide client;
  private final ProxyContext context;
  private final ConnectionPool pool;
  private final Attempts attempts = new Attempts();
  private final AccessRecord record = new AccessRecord();
  private final ResponseRelay relay;
  private final QueueWait queue;
  private final RequestWriter writer;

  private @Nullable HttpRequest request;
  private ProxySettings settings;
  private int id;
  private CharSequence requestId = "-";
  private boolean http10;
  private boolean idempotent;
  private boolean upgrade;
  private boolean clientKeepAlive;
  private @Nullable BackendConnection backend;
  /** The upstream of the current request; null when no route matched (lb answers 404). */
  private @Nullable Upstream upstream;

  Exchange(ClientSide client, ProxyContext context, ConnectionPool pool) {
    this.client = client;
    this.context = context;
    this.pool = pool;
    this.settings = context.settings();
    this.relay = new ResponseRelay(this, client, record);
    this.queue = new QueueWait(this, client, pool, context.metrics());
    this.writer = new RequestWriter(this, client, record);
  }

  /**
   * Serves the connection of {@code client} from now on: an idle exchange goes from one connection to another of the
   * same event loop ({@link Spares}), so that idle connections hold none.
   */
  void bind(ClientSide client) {
    this.client = client;
    relay.bind(client);
    queue.bind(client);
    writer.bind(client);
  }

  /** Whether a request is being served. */
  boolean active() {
    return request != null;
  }

  /** Whether the current request has more body to come from the client. */
  boolean awaitingBody() {
    return request != null && !writer.complete();
  }

  // ---------------------------------------------------------------- what the relay asks of the request

  boolean http10() {
    return http10;
  }

  boolean upgrade() {
    return upgrade;
  }

  CharSequence requestId() {
    return requestId;
  }

  /** Whether a response with {@code code} to this request has no body. */
  boolean hasNoBody(int code) {
    HttpRequest req = request;
    return code == 204 || code == 304 || (req != null && HttpMethod.HEAD.equals(req.method()));
  }

  /**
   * Whether the client connection closes after this response, before framing has its say: when the client or the
   * drain asks for it, or when the request body is still arriving.
   */
  boolean closesAfterResponse() {
    return !clientKeepAlive || writer.unread() || context.draining();
  }

  // ---------------------------------------------------------------- the request

  void start(HttpRequest req) {
    id++;
    request = req;
    settings = context.settings();
    record.start(System.nanoTime());
    attempts.reset();
    relay.reset();
    http10 = req.protocolVersion().minorVersion() == 0;
    // Forwarded in lb's own version (RFC 9110 section 2.5): an HTTP/1.2 request goes on as HTTP/1.1.
    req.setProtocolVersion(http10 ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1);
    Route<Upstream> route = RequestRoutes.of(context.routes(), req);
    record.route(route);
    upstream = route == null ? null : route.upstream();
    if (route != null && route.stripPrefix() && !(req instanceof RejectedRequest)) {
      // The backend sees the path without the prefix (the request is then written from decoded fields).
      req.setUri(route.rewrite(req.uri()).toString());
    }
    RawRequest raw = req instanceof RawRequest && !((RawRequest) req).decoded() ? (RawRequest) req : null;
    // RequestGuard leaves no unparseable Content-Length on a request it passes on, refused or not.
    writer.start(raw != null
        || (!HttpUtil.isTransferEncodingChunked(req) && HttpUtil.getContentLength(req, 0L) <= 0));
    if (raw != null) {
      // Bodiless, no Upgrade, X-Request-Id or X-Forwarded-For: the scanner took no other.
      attempts.countIn(context.retryBudget());
      clientKeepAlive = raw.keepAlive() && !context.draining();
      idempotent = isIdempotent(req.method());
      upgrade = false;
      requestId = RequestIds.generate();
      raw.forward(requestId, client.ip(), client.connection().scheme());
      dispatch();
      return;
    }
    if (req instanceof RejectedRequest) {
      RejectedRequest rejected = (RejectedRequest) req;
      requestId = RequestIds.generate();
      clientKeepAlive = HttpUtil.isKeepAlive(req);
      respondError(rejected.status(), null, rejected.responseHeaders(), rejected.close());
      return;
    }
    HttpHeaders headers = req.headers();
    attempts.countIn(context.retryBudget());
    clientKeepAlive = HttpUtil.isKeepAlive(req) && !context.draining();
    idempotent = isIdempotent(req.method());
    upgrade = isWebSocketUpgrade(headers);
    requestId = RequestIds.ensure(headers);
    ForwardedHeaders.rewriteRequest(headers, client.ip(), upgrade, client.connection().scheme());
    dispatch();
  }

  void onRequestContent(HttpContent content) {
    if (request == null || writer.complete()) {
      content.release();
      return;
    }
    writer.onContent(content, backend);
  }

  /** Whether {@code c} is the connection the current attempt uses. */
  boolean uses(BackendConnection c) {
    return backend == c;
  }

  /** The whole request went to the backend: the wait for the response begins. */
  void requestForwarded() {
    relay.armTimer(settings.responseTimeoutNanos());
  }

  /** The client's read burst ended: what was written to the backend during it is flushed. */
  void clientReadComplete() {
    writer.readComplete(backend);
  }

  /** The client can take more: the backend may be read again. */
  void clientWritable() {
    BackendConnection c = backend;
    if (c != null) {
      relay.clientWritable(c);
    }
  }

  /** The client connection closed: the exchange, if any, is abandoned. */
  void clientClosed() {
    if (request != null) {
      record.clientClosed(relay.started());
      abandonBackend();
      logAccess();
      end();
    }
  }

  /** The request turned out bad in its body ({@link RequestRejectedException}). */
  void rejectBody(HttpResponseStatus rejection) {
    respondError(rejection, null, null, true);
  }

  // ---------------------------------------------------------------- choosing and reaching a backend

  @Override
  public boolean tried(Backend candidate) {
    return attempts.tried(candidate);
  }

  @Override
  public CharSequence clientAddress() {
    return client.ip();
  }

  @Override
  public @Nullable CharSequence header(CharSequence name) {
    HttpRequest req = request;
    if (req instanceof RawRequest) {
      return ((RawRequest) req).get(name);
    }
    return req == null ? null : req.headers().get(name);
  }

  /**
   * Sends the request to a backend the algorithm picks: over an idle pooled connection, else a new one when the
   * backend is under its {@code max_connections}; a backend at its cap is skipped for another the algorithm allows,
   * and when every one is at its cap the request waits in the queue.
   */
  private void dispatch() {
    Upstream to = upstream;
    if (to == null) {
      record.failure("no route matches the host and path, and there is no default upstream");
      respondError(ErrorResponses.Variant.NO_ROUTE);
      return;
    }
    attempts.clearFull();
    for (int rounds = 0; ; rounds++) {
      Backend target = to.routing().picker().pick(this);
      if (target == null) {
        if (attempts.anyFull() && rounds < 64) {
          if (enqueue()) {
            return;
          }
          attempts.clearFull();
          continue;
        }
        if (attempts.anyFull()) {
          record.failure("every backend at its max_connections");
        } else if (attempts.count() == 0) {
          record.failure("no backend can take the request");
        }
        respondError(attempts.anyFull() || attempts.count() == 0 ? HttpResponseStatus.SERVICE_UNAVAILABLE
            : HttpResponseStatus.BAD_GATEWAY, null, null, false);
        return;
      }
      BackendConnection pooled = pool.poll(target);
      if (pooled != null) {
        attempts.record(target);
        attachAndSend(pooled);
        return;
      }
      ChannelFuture connecting = pool.connect(target);
      if (connecting != null) {
        attempts.record(target);
        awaitConnect(connecting);
        return;
      }
      attempts.markFull(target);
    }
  }

  /**
   * Every backend the request may use is at its cap: it waits in the queue (the client is not read meanwhile) until
   * a connection frees up or {@code proxy.queue.timeout} passes, or is answered 503 at once when the queue is full.
   *
   * @return false when a slot freed up meanwhile and the dispatch should look again
   */
  private boolean enqueue() {
    WaitQueue.Enqueued outcome = queue.enter(attempts.full(), settings.queue().timeoutNanos());
    if (outcome == WaitQueue.Enqueued.RETRY) {
      return false;
    }
    attempts.clearFull();
    if (outcome == WaitQueue.Enqueued.FULL) {
      record.failure("queue full");
      respondError(ErrorResponses.Variant.QUEUE_FULL);
    } else {
      client.pause(ClientSide.PAUSE_CONNECTING);
    }
    return true;
  }

  @Override
  public boolean canTake() {
    return request != null && !client.closing();
  }

  @Override
  public void granted(Backend target, @Nullable BackendConnection connection) {
    client.resume(ClientSide.PAUSE_CONNECTING);
    if (connection != null && !connection.channel().isActive()) {
      // Closed on its way here: its slot went back through the queue; look again.
      dispatch();
      return;
    }
    attempts.record(target);
    if (connection != null) {
      attachAndSend(connection);
    } else {
      awaitConnect(pool.connectReserved(target));
    }
  }

  @Override
  public void queueTimedOut() {
    record.failure("no connection within the queue timeout");
    respondError(ErrorResponses.Variant.QUEUE_TIMEOUT);
  }

  private void awaitConnect(ChannelFuture connecting) {
    client.pause(ClientSide.PAUSE_CONNECTING);
    int current = id;
    connecting.addListener((ChannelFutureListener) f -> onConnected(f, current));
  }

  private void onConnected(ChannelFuture future, int forExchange) {
    if (forExchange != id || request == null || client.closing()) {
      if (future.isSuccess()) {
        BackendConnection.of(future.channel()).release();
      }
      return;
    }
    client.resume(ClientSide.PAUSE_CONNECTING);
    if (!future.isSuccess()) {
      Backend failed = requireNonNull(attempts.last(), "last attempt");
      failed(failed, FailureReasons.describe(future.cause()));
      retryOrFail();
      return;
    }
    attachAndSend(BackendConnection.of(future.channel()));
  }

  private void attachAndSend(BackendConnection c) {
    HttpRequest req = requireNonNull(request, "request");
    backend = c;
    c.attach(this);
    c.backend().requestStarted();
    c.backend().stats().selected(record.startNanos());
    if (context.accessLog().enabled()) {
      record.attemptSent(System.nanoTime());
    }
    writer.send(c, req);
  }

  /**
   * The attempt on {@code c} failed before any of its response reached the client (a malformed or unsolicited head,
   * a body broken in the head's read): the backend is charged with {@code why}, the connection discarded, and the
   * request retried or answered 502.
   */
  void attemptFailed(BackendConnection c, String why) {
    failed(c.backend(), why);
    abandonBackend();
    retryOrFail();
  }

  /**
   * The current attempt failed before any response byte reached the client: retry on another backend when nothing
   * was sent yet, or when the request is idempotent and has no body (so it can be sent again whole), even if the
   * failed backend had sent part of a response or a malformed one (none of it went on); else 502.
   */
  private void retryOrFail() {
    relay.cancelTimer();
    boolean replayable = !writer.sent() || (idempotent && writer.bodyless());
    long wait = attempts.retryDelay(replayable, settings, record.startNanos(), context.retryBudget(),
        context.metrics());
    if (wait < 0) {
      respondError(HttpResponseStatus.BAD_GATEWAY, null, null, false);
      return;
    }
    writer.resend();
    if (wait == 0) {
      dispatch();
      return;
    }
    client.pause(ClientSide.PAUSE_CONNECTING);
    int current = id;
    client.executor().schedule(() -> {
      if (current == id && request != null && !client.closing()) {
        client.resume(ClientSide.PAUSE_CONNECTING);
        dispatch();
      }
    }, wait, TimeUnit.NANOSECONDS);
  }

  // ---------------------------------------------------------------- the backend connection's events

  @Override
  public void onBackendRead(BackendConnection c, Object msg) {
    if (c != backend) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpResponse) {
      relay.onHead(c, (HttpResponse) msg);
    } else if (msg instanceof HttpContent) {
      relay.onContent(c, (HttpContent) msg);
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void onBackendReadComplete(BackendConnection c) {
    if (c == backend) {
      relay.readComplete();
    }
  }

  @Override
  public void onBackendWritabilityChanged(BackendConnection c) {
    if (c == backend && c.channel().isWritable()) {
      client.resume(ClientSide.PAUSE_BACKEND_FULL);
    }
  }

  @Override
  public void onBackendClosed(BackendConnection c, @Nullable Throwable cause) {
    if (c != backend) {
      return;
    }
    if (relay.holdsHead()) {
      // Closed in the read that brought the head: nothing reached the client yet.
      relay.dropHeld(c, cause == null ? "connection closed during the response" : FailureReasons.describe(cause));
      return;
    }
    backend = null;
    c.backend().requestEnded();
    if (relay.started()) {
      abortResponse();
    } else {
      failed(c.backend(), cause == null ? "connection closed before a response" : FailureReasons.describe(cause));
      retryOrFail();
    }
  }

  // ---------------------------------------------------------------- how the exchange ends

  /** The response ended with {@code last}: the backend connection goes back to its pool (or closes). */
  void finish(LastHttpContent last) {
    BackendConnection c = backend;
    backend = null;
    relay.cancelTimer();
    if (c != null) {
      c.backend().requestEnded();
      if (relay.backendKeepAlive() && writer.forwarded()) {
        c.release();
      } else {
        c.discard();
      }
    }
    logAccess();
    boolean close = relay.closeAfter();
    boolean unread = writer.unread();
    end();
    client.ended(last, close, -1, close && unread);
  }

  /** The backend switched protocols as the client asked: the connection becomes a tunnel to it. */
  void startTunnel(BackendConnection c, HttpResponse res) {
    backend = null;
    c.detach();
    c.backend().requestEnded();
    res.headers().set(RequestIds.HEADER, requestId);
    client.writeAndFlush(res);
    logAccess();
    end();
    client.tunnel(c, settings.idleTimeoutNanos());
  }

  /** No response head within {@code response_timeout}: 504, and the backend charged with it. */
  void responseTimedOut() {
    Backend slow = attempts.last();
    String why = "no response within " + settings.responseTimeoutNanos() / 1_000_000 + " ms";
    record.failure(why);
    if (slow != null) {
      slow.stats().failed(why);
      slow.health().trafficFailed(why);
    }
    respondError(HttpResponseStatus.GATEWAY_TIMEOUT, null, null, false);
  }

  /** An attempt on {@code b} failed for {@code why}: its health hears of it, and the access log if lb answers. */
  private void failed(Backend b, String why) {
    record.failure(why);
    b.stats().failed(why);
    b.health().trafficFailed(why);
  }

  private static boolean isWebSocketUpgrade(HttpHeaders headers) {
    return headers.containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)
        && headers.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
  }

  /** As {@link #respondError(HttpResponseStatus, ErrorResponses.Variant, HttpHeaders, boolean)}, for a variant. */
  private void respondError(ErrorResponses.Variant variant) {
    respondError(variant.status(), variant, null, false);
  }

  /**
   * Answers the current request with the contract's JSON for {@code errorStatus} (in {@code variant}'s words when
   * given), or cuts the connection when the backend's response already began.
   */
  private void respondError(HttpResponseStatus errorStatus, ErrorResponses.@Nullable Variant variant,
      @Nullable HttpHeaders extra, boolean forceClose) {
    if (relay.started()) {
      abortResponse();
      return;
    }
    abandonBackend();
    boolean unread = writer.unread();
    boolean close = forceClose || client.closing() || !clientKeepAlive || context.draining()
        || (unread && !client.canSwallow(request));
    FullHttpResponse response = variant != null
        ? ErrorResponses.create(variant, close, requestId) : ErrorResponses.create(errorStatus, close, requestId);
    if (extra != null) {
      response.headers().add(extra);
    }
    record.answered(errorStatus.code(), response.content().readableBytes());
    logAccess();
    long bodyRead = record.requestBytes();
    end();
    // A close after lb's own answer lingers: the client may be sending a body or more requests (a refused head's).
    client.ended(response, close, unread ? bodyRead : -1, true);
  }

  /** The response cannot be completed: the client connection is closed, the backend connection discarded. */
  void abortResponse() {
    abandonBackend();
    logAccess();
    end();
    client.abort();
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
    relay.end();
    letGo();
    request = null;
    upstream = null;
    requestId = "-";
    client.resume(ClientSide.PAUSE_CONNECTING | ClientSide.PAUSE_BACKEND_FULL);
  }

  /** Releases what the exchange holds; for a handler leaving its pipeline. */
  void release() {
    relay.cancelTimerTask();
    letGo();
  }

  /**
   * Lets go of what the request holds, however it ended: its place in the queue, its count in the retry budget, a
   * held response head and body, and a held request body.
   */
  private void letGo() {
    queue.leave();
    attempts.letGo(context.retryBudget());
    relay.releaseHeld();
    writer.letGo();
  }

  private void logAccess() {
    HttpRequest req = request;
    if (req != null) {
      record.record(context, client, req, http10, requestId, attempts.last(), attempts.count());
    }
  }

  /** RFC 9110 section 9.2.2: methods whose repetition has the effect of one. */
  private static boolean isIdempotent(HttpMethod method) {
    return HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method) || HttpMethod.PUT.equals(method)
        || HttpMethod.DELETE.equals(method) || HttpMethod.OPTIONS.equals(method)
        || HttpMethod.TRACE.equals(method);
  }
}
