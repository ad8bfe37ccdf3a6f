package dev.lb.config;

/**
 * One backend server.
 *
 * @param url as written, normalised to {@code http://host:port} (no path)
 * @param host host name or IP literal (IPv6 without brackets)
 * @param port TCP port (80 when the URL names none)
 * @param weight share of traffic for weighted algorithms, 0 to 256; 0 takes the backend out of rotation
 * @param maxConnections most connections open to the backend at once, counting idle pooled ones (HAProxy's
 *     {@code maxconn}); requests beyond it wait in the proxy's queue; 0 means unlimited
 * @param name the operator's name for it (letters, digits, {@code .}, {@code _}, {@code -}; unique), by which the
 *     admin API finds it besides its URL; empty when none is given
 */
public record BackendConfig(String url, String host, int port, int weight, int maxConnections, String name) {

  /** A backend without a name. */
  public BackendConfig(String url, String host, int port, int weight, int maxConnections) {
    this(url, host, port, weight, maxConnections, "");
  }

  /** A backend without a connection cap or a name. */
  public BackendConfig(String url, String host, int port, int weight) {
    this(url, host, port, weight, 0);
  }
}
