package dev.lb.config;

import dev.lb.tls.TlsConfig;
import org.jspecify.annotations.Nullable;

import java.util.Locale;

/**
 * The proxy listener.
 *
 * @param host address to bind
 * @param port TCP port; 0 picks a free one
 * @param workers event loops serving connections; 0 means one per available core
 * @param maxConnections client connections accepted at once; more are closed as they arrive
 * @param transport the Netty transport: {@code auto} picks the best one that works here
 * @param tls TLS on the listener, or null for plain HTTP
 * @param h2c whether a plain listener also takes HTTP/2 with prior knowledge (the connection preface)
 * @param http2 HTTP/2 settings and flood limits, for connections that negotiate it
 */
public record ListenConfig(String host, int port, int workers, int maxConnections, TransportChoice transport,
    @Nullable TlsConfig tls, boolean h2c, Http2Config http2) {

  /** A plain HTTP/1.x listener. */
  public ListenConfig(String host, int port, int workers, int maxConnections, TransportChoice transport) {
    this(host, port, workers, maxConnections, transport, null, false, Http2Config.defaults());
  }

  /** Which transport serves the listener and the backend connections. */
  public enum TransportChoice {
    AUTO,
    IO_URING,
    EPOLL,
    NIO;

    /** The configuration's spelling: {@code auto}, {@code io_uring}, {@code epoll}, {@code nio}. */
    public String key() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** A listener on the automatically chosen transport. */
  public ListenConfig(String host, int port, int workers, int maxConnections) {
    this(host, port, workers, maxConnections, TransportChoice.AUTO);
  }

  public static ListenConfig defaults() {
    return new ListenConfig("0.0.0.0", 8080, 0, 10_000);
  }
}
