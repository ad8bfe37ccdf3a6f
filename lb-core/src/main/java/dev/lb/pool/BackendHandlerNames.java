package dev.lb.pool;

/**
 * Names of the handlers in a backend connection's pipeline. {@code dev.lb.proxy.HandlerNames} repeats them beside the
 * client pipeline's names, so that one list names every handler.
 */
public final class BackendHandlerNames {
  private BackendHandlerNames() {}

  /** The {@link io.netty.handler.ssl.SslHandler} of an {@code https} backend's connection, first in its pipeline. */
  public static final String TLS = "backend-tls";

  /** {@link BackendCodec} of a backend connection. */
  public static final String CLIENT_CODEC = "http-client-codec";

  /** {@link BackendConnection} at the end of a backend pipeline. */
  public static final String BACKEND = "backend";
}
