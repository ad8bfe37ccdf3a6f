package dev.lb.proxy;

import dev.lb.pool.BackendHandlerNames;

/** Names of the handlers in the client and backend pipelines, so that code finds them without class lookups. */
public final class HandlerNames {
  private HandlerNames() {}

  /** {@link FrontendCodec} of a client connection. */
  public static final String SERVER_CODEC = "http-server-codec";

  /** {@link RequestGuard}: request validation and size limits. */
  public static final String GUARD = "request-guard";

  /** {@link ClientTimeouts}: the header, idle and stalled-body timeouts of a client connection, after the guard. */
  public static final String TIMEOUTS = "client-timeouts";

  /** The slot for the rate limiter, between the timeouts and the balancing handler. */
  public static final String RATE_LIMIT = "rate-limit";

  /** {@link ProxyHandler}: picks a backend and relays the exchange. */
  public static final String PROXY = "proxy";

  /** {@link dev.lb.pool.BackendCodec} of a backend connection. */
  public static final String CLIENT_CODEC = BackendHandlerNames.CLIENT_CODEC;

  /** {@link dev.lb.pool.BackendConnection} at the end of a backend pipeline. */
  public static final String BACKEND = BackendHandlerNames.BACKEND;

  /** The TLS handler first in the pipeline of a connection to an {@code https} backend. */
  public static final String BACKEND_TLS = BackendHandlerNames.TLS;

  /** {@link TunnelHandler}, once a connection became a byte tunnel after {@code 101 Switching Protocols}. */
  public static final String TUNNEL = "tunnel";

  /** {@link LingeringClose}, first in a client pipeline whose connection is closing after an answer. */
  public static final String LINGER = "linger";

  /** Idle timeout of a tunnel. */
  public static final String TUNNEL_IDLE = "tunnel-idle";
}
