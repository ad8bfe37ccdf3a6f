package dev.lb.config;

import static java.util.Objects.requireNonNull;

import dev.lb.tls.ClientTls;

/**
 * TLS to a backend: the {@code tls} block of a backend or of an upstream, with the client context read from its files
 * when the configuration was loaded. An {@code https://} backend without any block gets {@link #DEFAULT_KEYS}: the
 * JVM's default CAs, the name verified.
 *
 * @param caFile PEM file of the CAs to trust instead of the default ones; empty for those
 * @param insecureSkipVerify trust any certificate for any name
 * @param clientCertFile PEM client certificate (then its chain) presented when the backend asks; empty for none
 * @param clientKeyFile its private key (PKCS#8, or traditional RSA or EC)
 * @param serverName the name sent as SNI and verified in the certificate instead of the URL's host; empty for that
 * @param client the context made from the files; equal for equal settings and file contents
 */
public record BackendTlsConfig(String caFile, boolean insecureSkipVerify, String clientCertFile, String clientKeyFile,
    String serverName, ClientTls client) {

  /** The keys of a backend with {@code https://} and no {@code tls} block. */
  public static final Keys DEFAULT_KEYS = new Keys("", false, "", "", "");

  public BackendTlsConfig {
    requireNonNull(caFile, "caFile");
    requireNonNull(clientCertFile, "clientCertFile");
    requireNonNull(clientKeyFile, "clientKeyFile");
    requireNonNull(serverName, "serverName");
    requireNonNull(client, "client");
  }

  /** The keys as written, without the context: what backends inherit key by key, and what one context is made of. */
  public record Keys(String caFile, boolean insecureSkipVerify, String clientCertFile, String clientKeyFile,
      String serverName) {
    /** The same keys with another {@code server_name}. */
    Keys withServerName(String value) {
      return new Keys(caFile, insecureSkipVerify, clientCertFile, clientKeyFile, value);
    }
  }

  /** This block's keys. */
  public Keys keys() {
    return new Keys(caFile, insecureSkipVerify, clientCertFile, clientKeyFile, serverName);
  }

  /** The settings with {@code value} as the server name; the same context. */
  public BackendTlsConfig withServerName(String value) {
    return new BackendTlsConfig(caFile, insecureSkipVerify, clientCertFile, clientKeyFile, value, client);
  }

  /** The name sent as SNI and verified: {@code server_name}, else {@code host} (a URL's host or a DNS name). */
  public String peerName(String host) {
    return serverName.isEmpty() ? host : serverName;
  }
}
