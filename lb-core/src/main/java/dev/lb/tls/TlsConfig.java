package dev.lb.tls;

import java.time.Duration;
import java.util.List;

/**
 * TLS on the proxy listener ({@code listen.tls}).
 *
 * @param certificates the certificates offered, each a PEM chain and its key: the first ({@code cert_file} and
 *     {@code key_file}) is the default, the others ({@code certificates}) are chosen by the server name the client
 *     asks for, matched against each certificate's names (wildcards too)
 * @param minVersion the oldest TLS version accepted: {@code TLSv1.2} or {@code TLSv1.3}
 * @param ciphers TLS 1.2 cipher suites offered (TLS 1.3's are fixed); empty for the default list (ECDHE with AES-GCM
 *     or ChaCha20-Poly1305, the HTTP/2 list of RFC 9113 appendix A's complement)
 * @param alpn the protocols offered by ALPN, in order of preference: {@code h2}, {@code http/1.1}
 * @param watchInterval how often the files are checked for changes (then re-read); zero to check only on reload
 */
public record TlsConfig(List<CertificateFiles> certificates, String minVersion, List<String> ciphers,
    List<String> alpn, Duration watchInterval) {

  /** One certificate chain and its private key, as PEM files. */
  public record CertificateFiles(String certFile, String keyFile) {}

  public static final String TLS_1_2 = "TLSv1.2";
  public static final String TLS_1_3 = "TLSv1.3";
  public static final String H2 = "h2";
  public static final String HTTP_1_1 = "http/1.1";

  public TlsConfig {
    certificates = List.copyOf(certificates);
    ciphers = List.copyOf(ciphers);
    alpn = List.copyOf(alpn);
  }

  /** Every file named, certificate then key, in order: what is read, and watched for changes. */
  public List<java.nio.file.Path> files() {
    List<java.nio.file.Path> files = new java.util.ArrayList<>();
    for (CertificateFiles c : certificates) {
      files.add(java.nio.file.Path.of(c.certFile()));
      files.add(java.nio.file.Path.of(c.keyFile()));
    }
    return files;
  }

  /** The protocol versions enabled, newest first. */
  public List<String> protocols() {
    return TLS_1_3.equals(minVersion) ? List.of(TLS_1_3) : List.of(TLS_1_3, TLS_1_2);
  }

  /** Whether ALPN offers HTTP/2. */
  public boolean offersH2() {
    return alpn.contains(H2);
  }

  /** Defaults for everything but the certificates. */
  public static TlsConfig of(List<CertificateFiles> certificates) {
    return new TlsConfig(certificates, TLS_1_2, List.of(), List.of(H2, HTTP_1_1), Duration.ofSeconds(5));
  }
}
