package dev.lb.it.support;

import static java.util.Objects.requireNonNull;

import dev.lb.tls.TlsProvider;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Path;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;

/**
 * The TLS side of a {@link TestBackend#startTls TLS test backend}: its certificate (then chain) and key as PEM files,
 * and optionally the CA whose client certificates it requires (mutual TLS). The provider is lb's own choice.
 *
 * @param clientCaFile when set, a client must present a certificate this CA signed, else the handshake fails
 */
public record TlsServer(Path certFile, Path keyFile, @Nullable Path clientCaFile) {
  public TlsServer {
    requireNonNull(certFile, "certFile");
    requireNonNull(keyFile, "keyFile");
  }

  /** A server that asks for no client certificate. */
  public TlsServer(Path certFile, Path keyFile) {
    this(certFile, keyFile, null);
  }

  SslContext context() {
    try {
      SslContextBuilder b = SslContextBuilder.forServer(certFile.toFile(), keyFile.toFile())
          .sslProvider(TlsProvider.provider());
      if (clientCaFile != null) {
        b.trustManager(clientCaFile.toFile()).clientAuth(ClientAuth.REQUIRE);
      }
      return b.build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot make the test backend's TLS context", e);
    }
  }
}
