package dev.lb.proxy;

import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Fired down the pipeline when a request that was already passed on turns out bad in its body (too large, or
 * malformed chunked encoding): the balancing handler aborts the exchange and answers {@link #status()} if no response
 * has started, then closes the connection. Carries no stack trace: it is a verdict, not a bug.
 */
public final class RequestRejectedException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final transient HttpResponseStatus status;

  public RequestRejectedException(HttpResponseStatus status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  public HttpResponseStatus status() {
    return status;
  }
}
