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

  /** {@link TunnelHandler}, once a connection became a byte tunnel after {@code 101 Switching Protocols}. */
  public static final String TUNNEL = "tunnel";

  /** {@link LingeringClose}, first in a client pipeline whose connection is closing after an answer. */
  public static final String LINGER = "linger";

  /** Idle timeout of a tunnel. */
  public static final String TUNNEL_IDLE = "tunnel-idle";

  /** The TLS handler of a client connection ({@code SniHandler}, which becomes an {@code SslHandler}). */
  public static final String TLS = "tls";

  /** Waits for the TLS handshake, then sets up HTTP/1.1 or HTTP/2 as ALPN chose. */
  public static final String ALPN = "alpn";

  /** On a plain listener with {@code listen.h2c}: tells the HTTP/2 connection preface from an HTTP/1.x request. */
  public static final String PREFACE = "preface";

  /** An HTTP/2 connection's idle timer. */
  public static final String H2_IDLE = "h2-idle";

  /** An HTTP/2 connection's frame codec. */
  public static final String H2_CODEC = "h2-codec";

  /** An HTTP/2 connection's drain and idle handling. */
  public static final String H2_CONNECTION = "h2-connection";

  /** Gives each HTTP/2 stream its own child channel. */
  public static final String H2_STREAMS = "h2-streams";

  /** A stream's conversion between HTTP/2 frames and lb's HTTP/1.1 messages. */
  public static final String STREAM_CODEC = "stream-codec";
}
