package dev.lb.proxy;

import static java.util.Objects.requireNonNull;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.jspecify.annotations.Nullable;

/**
 * A request refused before it reached a backend: in its place in the pipeline the guard (or a limiter) passes this
 * message on, and {@link ProxyHandler} answers it in turn with {@link #status()}, after any earlier pipelined request,
 * and never forwards it. Its body, if any, is discarded.
 */
public final class RejectedRequest extends DefaultHttpRequest {
  private final HttpResponseStatus status;
  private final boolean close;
  private final @Nullable HttpHeaders responseHeaders;

  /**
   * @param original the refused request (its method, target and headers are kept for the access log)
   * @param status the answer
   * @param close whether the connection closes after the answer
   * @param responseHeaders extra headers for the answer, e.g. {@code Retry-After}
   */
  public RejectedRequest(
      HttpRequest original, HttpResponseStatus status, boolean close, @Nullable HttpHeaders responseHeaders) {
    super(original.protocolVersion(), original.method(), original.uri(), original.headers());
    this.status = requireNonNull(status, "status");
    this.close = close;
    this.responseHeaders = responseHeaders;
  }

  /** A rejection with no extra response headers. */
  public RejectedRequest(HttpRequest original, HttpResponseStatus status, boolean close) {
    this(original, status, close, null);
  }

  public HttpResponseStatus status() {
    return status;
  }

  /** Whether the connection is closed after the answer (always, for malformed requests). */
  public boolean close() {
    return close;
  }

  /** Headers to add to the answer, or null. */
  public @Nullable HttpHeaders responseHeaders() {
    return responseHeaders;
  }
}
