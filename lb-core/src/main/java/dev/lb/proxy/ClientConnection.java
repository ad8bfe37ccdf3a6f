package dev.lb.proxy;

import io.netty.util.AsciiString;
import org.jspecify.annotations.Nullable;

/**
 * What lb knows of a client connection beyond its address, fixed once the connection's protocol is settled (after
 * the TLS handshake and ALPN, or the HTTP/2 preface): whether it is over TLS (then {@code X-Forwarded-Proto: https},
 * and the version, cipher and server name for the access log) and whether it speaks HTTP/2. Shared by every stream of
 * an HTTP/2 connection.
 */
public final class ClientConnection {
  /** A plain HTTP/1.x connection. */
  public static final ClientConnection PLAIN = new ClientConnection(false, null, null, null);
  /** HTTP/2 with prior knowledge on a plain listener ({@code listen.h2c}). */
  public static final ClientConnection H2C = new ClientConnection(true, null, null, null);

  private final boolean http2;
  private final @Nullable String tlsVersion;
  private final @Nullable String cipher;
  private final @Nullable String serverName;

  private ClientConnection(boolean http2, @Nullable String tlsVersion, @Nullable String cipher,
      @Nullable String serverName) {
    this.http2 = http2;
    this.tlsVersion = tlsVersion;
    this.cipher = cipher;
    this.serverName = serverName;
  }

  /** A connection over TLS, as negotiated. */
  public static ClientConnection tls(boolean http2, String version, String cipher, @Nullable String serverName) {
    return new ClientConnection(http2, version, cipher, serverName);
  }

  public boolean http2() {
    return http2;
  }

  public boolean tls() {
    return tlsVersion != null;
  }

  /** {@code X-Forwarded-Proto}: {@code https} or {@code http}. */
  public AsciiString scheme() {
    return tlsVersion != null ? ForwardedHeaders.HTTPS : ForwardedHeaders.HTTP;
  }

  /** The TLS version ({@code TLSv1.3}), or null for a plain connection. */
  public @Nullable String tlsVersion() {
    return tlsVersion;
  }

  /** The cipher suite, or null for a plain connection. */
  public @Nullable String cipher() {
    return cipher;
  }

  /** The server name the client asked for (SNI), or null when it sent none or the connection is plain. */
  public @Nullable String serverName() {
    return serverName;
  }

  @Override
  public String toString() {
    return (http2 ? "h2" : "http/1.1") + (tlsVersion == null ? "" : " over " + tlsVersion + " " + cipher
        + (serverName == null ? "" : " sni=" + serverName));
  }
}
