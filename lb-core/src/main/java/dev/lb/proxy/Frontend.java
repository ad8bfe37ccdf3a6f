package dev.lb.proxy;

import dev.lb.config.Http2Config;
import dev.lb.tls.ServerTls;
import org.jspecify.annotations.Nullable;

/**
 * What the listener speaks to clients: TLS (with the certificates of the moment), HTTP/2 prior knowledge on a plain
 * listener, and HTTP/2's settings and limits. Immutable, swapped whole in the {@link ProxyContext} on reload or when
 * a certificate file changes; each new connection reads it once.
 *
 * @param tls the certificates and TLS settings, or null for a plain listener
 * @param h2c whether a plain listener takes HTTP/2 with prior knowledge
 */
public record Frontend(@Nullable ServerTls tls, boolean h2c, Http2Config http2) {
  /** Plain HTTP/1.x. */
  public static final Frontend PLAIN = new Frontend(null, false, Http2Config.defaults());

  /** The same, with other certificates. */
  public Frontend withTls(ServerTls value) {
    return new Frontend(value, h2c, http2);
  }
}
