package dev.lb.proxy;

import dev.lb.config.Http2Config;
import dev.lb.config.ShutdownConfig;
import dev.lb.tls.ServerTls;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * What the listener speaks to clients: TLS (with the certificates of the moment), HTTP/2 prior knowledge on a plain
 * listener, and HTTP/2's settings and limits. Immutable, swapped whole in the {@link ProxyContext} on reload or when
 * a certificate file changes; each new connection reads it once.
 *
 * @param tls the certificates and TLS settings, or null for a plain listener
 * @param h2c whether a plain listener takes HTTP/2 with prior knowledge
 * @param gracefulShutdown how long an HTTP/2 connection closed by lb (a drain, the idle timeout) waits after its
 *     GOAWAY for the streams in progress: {@code shutdown.grace_period}
 */
public record Frontend(@Nullable ServerTls tls, boolean h2c, Http2Config http2, Duration gracefulShutdown) {
  /** Plain HTTP/1.x. */
  public static final Frontend PLAIN =
      new Frontend(null, false, Http2Config.defaults(), ShutdownConfig.defaults().gracePeriod());

  /** The same, with other certificates. */
  public Frontend withTls(ServerTls value) {
    return new Frontend(value, h2c, http2, gracefulShutdown);
  }
}
