package dev.lb.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import java.util.Locale;

/**
 * Which TLS implementation lb uses: BoringSSL through netty-tcnative when its native library loads here (OpenSSL-class
 * speed, ALPN everywhere), else the JDK's. {@code -Dlb.tls.provider=jdk} forces the JDK's, for comparison or when the
 * native library misbehaves. Decided once, on first use (loading the native library is done at start, not on an event
 * loop).
 */
public final class TlsProvider {
  private static final SslProvider PROVIDER = choose();

  private TlsProvider() {}

  private static SslProvider choose() {
    String forced = System.getProperty("lb.tls.provider", "").toLowerCase(Locale.ROOT);
    if ("jdk".equals(forced)) {
      return SslProvider.JDK;
    }
    return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
  }

  /** Whether the provider offers the cipher suite {@code name} (its IANA/Java name, or OpenSSL's). */
  public static boolean supportsCipher(String name) {
    if (PROVIDER == SslProvider.OPENSSL) {
      return OpenSsl.isCipherSuiteAvailable(name);
    }
    try {
      return java.util.Arrays.asList(javax.net.ssl.SSLContext.getDefault().getSupportedSSLParameters()
          .getCipherSuites()).contains(name);
    } catch (java.security.NoSuchAlgorithmException e) {
      return false;
    }
  }

  /** The provider every TLS context lb makes uses. */
  public static SslProvider provider() {
    return PROVIDER;
  }

  /** For the start-up line: {@code BoringSSL (netty-tcnative)} or {@code JDK (why the native one is not used)}. */
  public static String describe() {
    if (PROVIDER == SslProvider.OPENSSL) {
      return OpenSsl.versionString() + " (netty-tcnative)";
    }
    Throwable why = OpenSsl.unavailabilityCause();
    String forced = System.getProperty("lb.tls.provider", "");
    return "JDK " + Runtime.version().feature()
        + (forced.equalsIgnoreCase("jdk") ? " (-Dlb.tls.provider=jdk)"
            : why == null ? "" : " (native TLS unavailable: " + why.getMessage() + ")");
  }
}
