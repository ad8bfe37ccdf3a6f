package dev.lb.config;

import org.jspecify.annotations.Nullable;

/**
 * One backend server.
 *
 * @param url as written, normalised to {@code http://host:port} or {@code https://host:port} (no path)
 * @param host host name or IP literal (IPv6 without brackets)
 * @param port TCP port (80 when an {@code http://} URL names none, 443 for {@code https://})
 * @param weight share of traffic for weighted algorithms, 0 to 256; 0 takes the backend out of rotation
 * @param maxConnections most connections open to the backend at once, counting idle pooled ones (HAProxy's
 *     {@code maxconn}); requests beyond it wait in the proxy's queue; 0 means unlimited
 * @param name the operator's name for it (letters, digits, {@code .}, {@code _}, {@code -}; unique), by which the
 *     admin API finds it besides its URL; empty when none is given
 * @param tls for an {@code https://} backend, its TLS settings in effect (its own {@code tls} block, key by key over
 *     its upstream's, else the defaults); null for {@code http://}
 */
public record BackendConfig(String url, String host, int port, int weight, int maxConnections, String name,
    @Nullable BackendTlsConfig tls) {

  public BackendConfig {
    if ((tls != null) != url.startsWith("https://")) {
      throw new IllegalArgumentException("TLS settings go with an https:// URL, and only with one: " + url);
    }
  }

  /** A plain backend. */
  public BackendConfig(String url, String host, int port, int weight, int maxConnections, String name) {
    this(url, host, port, weight, maxConnections, name, null);
  }

  /** A backend without a name. */
  public BackendConfig(String url, String host, int port, int weight, int maxConnections) {
    this(url, host, port, weight, maxConnections, "");
  }

  /** A backend without a connection cap or a name. */
  public BackendConfig(String url, String host, int port, int weight) {
    this(url, host, port, weight, 0);
  }

  /** Whether lb speaks TLS to it ({@code https://}). */
  public boolean https() {
    return tls != null;
  }
}
