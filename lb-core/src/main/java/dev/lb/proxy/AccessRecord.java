package dev.lb.proxy;

import dev.lb.route.Route;
import dev.lb.upstream.Upstream;
import dev.lb.backend.Backend;
import dev.lb.log.AccessLogMessage;
import dev.lb.pool.RawRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.AsciiString;
import org.jspecify.annotations.Nullable;

/**
 * What one exchange leaves behind: its status, sizes and timings, filled in as the exchange goes, then recorded in
 * the request meters and, when the access log is on, as an access-log entry. One instance per client connection,
 * reset for each request.
 */
final class AccessRecord {
  /** Status logged for an exchange the client abandoned before its response began (as nginx does). */
  static final int CLIENT_CLOSED = 499;

  private long startNanos;
  private int status;
  private long requestBytes;
  private long responseBytes;
  /** When the last attempt's request went to its backend, or 0 when none did. */
  private long attemptNanos;
  /** Whether the response (or what was sent of it) came from a backend rather than from lb. */
  private boolean fromBackend;
  /** Why the last attempt failed or lb could not answer from a backend; null when nothing failed. */
  private @Nullable String failure;
  /** The route the request took; null when none matched and there is no default upstream. */
  private @Nullable Route<Upstream> route;

  /** A request arrived now. */
  void start(long nowNanos) {
    startNanos = nowNanos;
    status = 0;
    requestBytes = 0;
    responseBytes = 0;
    attemptNanos = 0;
    fromBackend = false;
    failure = null;
    route = null;
  }

  /** The request takes {@code value} (null: no route, lb answers 404). */
  void route(@Nullable Route<Upstream> value) {
    route = value;
  }

  /** An attempt failed, or no backend could be tried, because of {@code why}: the cause of a 5xx lb answers. */
  void failure(String why) {
    failure = why;
  }

  long startNanos() {
    return startNanos;
  }

  void status(int code) {
    status = code;
  }

  /** The client went away: logged as 499 unless a response had begun. */
  void clientClosed(boolean responseStarted) {
    if (!responseStarted) {
      status = CLIENT_CLOSED;
    }
  }

  void requestBody(long bytes) {
    requestBytes += bytes;
  }

  long requestBytes() {
    return requestBytes;
  }

  void responseBody(long bytes) {
    responseBytes += bytes;
  }

  /** The response from lb itself, of {@code bytes}. */
  void answered(int code, long bytes) {
    status = code;
    responseBytes = bytes;
  }

  /** The backend's response head arrived with {@code code}. */
  void fromBackend(int code) {
    status = code;
    fromBackend = true;
  }

  /** A backend's response head was dropped before any of it reached the client. */
  void responseDropped() {
    status = 0;
    responseBytes = 0;
    fromBackend = false;
  }

  /** The request went to a backend now. */
  void attemptSent(long nowNanos) {
    attemptNanos = nowNanos;
  }

  /** Records the finished exchange: its meters always, its access-log entry when the log is on. */
  void record(ProxyContext context, ClientSide client, HttpRequest req, boolean http10, CharSequence requestId,
      @Nullable Backend backend, int attempts) {
    long now = System.nanoTime();
    long duration = now - startNanos;
    if (fromBackend && backend != null) {
      backend.meters().request(status, duration);
      backend.stats().responded(status, duration, requestBytes, responseBytes);
    } else {
      Route<Upstream> r = route;
      (r == null ? context.metrics().none() : r.upstream().none()).request(status, duration);
    }
    context.stats().requestDone();
    if (!context.accessLog().enabled()) {
      return;
    }
    ClientConnection connection = client.connection();
    AccessLogMessage.Builder entry = new AccessLogMessage.Builder()
        .client(client.ip().toString(), client.port())
        .request(req.method().name(), req.uri(), http10 ? "1.0" : connection.http2() ? "2.0" : "1.1")
        .status(status)
        .bytes(requestBytes, responseBytes)
        .durationNanos(duration)
        .upstreamNanos(attemptNanos == 0 ? -1 : now - attemptNanos)
        .rateLimit(rateLimitOutcome(context, req))
        .requestId(requestId)
        .backend(backend == null ? "-" : backend.url(), attempts)
        .agent(header(req, HttpHeaderNames.HOST), header(req, HttpHeaderNames.USER_AGENT))
        .route(routeName(context), route == null ? "-" : route.upstream().name())
        .error(status >= 500 && !fromBackend ? (failure != null ? failure : "status " + status) : null);
    String tls = connection.tlsVersion();
    if (tls != null) {
      entry.tls(tls, connection.cipher(), connection.serverName());
    }
    context.accessLog().log(entry.build());
  }

  /** The route's index, {@code default} for the fallback, {@code -} when there are no routes or none matched. */
  private String routeName(ProxyContext context) {
    Route<Upstream> r = route;
    if (r == null || !context.routes().routed()) {
      return "-";
    }
    return r.fallback() ? "default" : Integer.toString(r.index());
  }

  private static @Nullable CharSequence header(HttpRequest req, AsciiString name) {
    return req instanceof RawRequest ? ((RawRequest) req).get(name) : req.headers().get(name);
  }

  /** {@code limited} for a 429 from the limiter, {@code allowed} when rate limiting is on, else {@code -}. */
  private static String rateLimitOutcome(ProxyContext context, HttpRequest req) {
    if (req instanceof RejectedRequest && ((RejectedRequest) req).status().code() == 429) {
      return "limited";
    }
    return context.rateLimited() ? "allowed" : "-";
  }
}
