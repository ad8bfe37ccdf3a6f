package dev.lb.transport;

import dev.lb.tls.ClientTls;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.DecoderException;
import java.io.IOException;
import java.net.ConnectException;
import java.util.Locale;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

/** Short reasons for failed connections, for health logs and {@code /backends}. */
public final class FailureReasons {
  private FailureReasons() {}

  /**
   * {@code connection refused}, {@code connect timeout}, {@code connection reset}, {@code TLS handshake failed: ...}
   * (what the TLS provider said: an unknown CA, a name the certificate does not cover...), {@code TLS error: ...}, or
   * the failure's own message.
   */
  public static String describe(Throwable cause) {
    if (cause instanceof DecoderException && cause.getCause() instanceof SSLException ssl) {
      // How SslHandler reports what it could not decrypt or verify.
      cause = ssl;
    }
    if (cause instanceof SSLHandshakeException) {
      return ClientTls.handshakeFailure(cause).getMessage();
    }
    if (cause instanceof SSLException) {
      return "TLS error: " + cause.getMessage();
    }
    if (cause instanceof ConnectTimeoutException) {
      return "connect timeout";
    }
    if (cause instanceof ConnectException) {
      return "connection refused";
    }
    String message = cause.getMessage();
    if (cause instanceof IOException && message != null) {
      String lower = message.toLowerCase(Locale.ROOT);
      if (lower.contains("reset")) {
        return "connection reset";
      }
      if (lower.contains("refused")) {
        return "connection refused";
      }
    }
    return message == null ? cause.getClass().getSimpleName() : message;
  }
}
