package dev.lb.tls;

import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.DomainWildcardMappingBuilder;
import io.netty.util.Mapping;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.net.ssl.SSLException;
import javax.security.auth.x500.X500Principal;
import org.jspecify.annotations.Nullable;

/**
 * The listener's TLS: one server context per certificate, and the mapping from the server name a client asks for (SNI)
 * to the context whose certificate carries it (exact names, then wildcards {@code *.example.com} one label deep);
 * a client asking for no name or an unknown one gets the first certificate. Immutable: a reload or a changed file
 * makes a new one, which the connections accepted after it use; connections already open keep theirs.
 */
public final class ServerTls {
  private final TlsConfig config;
  private final List<Loaded> certificates;
  private final Mapping<String, SslContext> mapping;

  /** One certificate as loaded, with the names it is offered for. */
  public record Loaded(TlsConfig.CertificateFiles files, X509Certificate leaf, List<String> names,
      SslContext context) {}

  private ServerTls(TlsConfig config, List<Loaded> certificates) {
    this.config = config;
    this.certificates = List.copyOf(certificates);
    DomainWildcardMappingBuilder<SslContext> b = new DomainWildcardMappingBuilder<>(certificates.get(0).context());
    Set<String> taken = new java.util.HashSet<>();
    for (Loaded l : certificates) {
      for (String name : l.names()) {
        // The first certificate naming a host serves it.
        if (taken.add(name)) {
          b.add(name, l.context());
        }
      }
    }
    this.mapping = b.build();
  }

  /**
   * Reads every certificate and key {@code config} names and builds their contexts. Reads files: call it at start or
   * from a reload, never on an event loop.
   *
   * @throws TlsException naming the field of the first file that cannot be used, and why
   */
  public static ServerTls load(TlsConfig config) throws TlsException {
    List<Loaded> loaded = new ArrayList<>();
    for (int i = 0; i < config.certificates().size(); i++) {
      TlsConfig.CertificateFiles files = config.certificates().get(i);
      String field = i == 0 ? "listen.tls." : "listen.tls.certificates[" + (i - 1) + "].";
      Material m = read(files, field);
      SslContext context;
      try {
        context = context(config, m.key(), m.chain());
      } catch (SSLException | RuntimeException e) {
        throw new TlsException(field + "cert_file", files.certFile(), "a certificate the TLS provider takes: " + e);
      }
      loaded.add(new Loaded(files, m.chain()[0], names(m.chain()[0]), context));
    }
    return new ServerTls(config, loaded);
  }

  /** A certificate chain and its key, read and checked against each other. */
  public record Material(X509Certificate[] chain, PrivateKey key) {}

  /**
   * Reads and checks one certificate's files.
   *
   * @param field the field path both files' keys are under ({@code listen.tls.})
   */
  public static Material read(TlsConfig.CertificateFiles files, String field) throws TlsException {
    List<X509Certificate> chain;
    try {
      chain = PemFiles.certificates(Path.of(files.certFile()));
    } catch (PemFiles.PemException e) {
      throw new TlsException(field + "cert_file", files.certFile(), e.getMessage());
    }
    PrivateKey key;
    try {
      key = PemFiles.privateKey(Path.of(files.keyFile()), chain.get(0).getPublicKey());
    } catch (PemFiles.PemException e) {
      throw new TlsException(field + "key_file", files.keyFile(), e.getMessage());
    }
    if (!PemFiles.matches(key, chain.get(0))) {
      throw new TlsException(field + "key_file", files.keyFile(),
          "the private key of the first certificate in cert_file (this key does not match it)");
    }
    return new Material(chain.toArray(new X509Certificate[0]), key);
  }

  private static SslContext context(TlsConfig config, PrivateKey key, X509Certificate[] chain) throws SSLException {
    List<String> alpn = config.alpn();
    return SslContextBuilder.forServer(key, chain)
        .sslProvider(TlsProvider.provider())
        .protocols(config.protocols())
        .ciphers(config.ciphers().isEmpty() ? Http2SecurityUtil.CIPHERS : config.ciphers(),
            SupportedCipherSuiteFilter.INSTANCE)
        .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
            // The only behaviours both providers support: no common protocol goes on as HTTP/1.1.
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, alpn))
        .build();
  }

  /** The DNS names of the certificate's subject alternative names, else its common name; lower case. */
  static List<String> names(X509Certificate cert) {
    Set<String> names = new LinkedHashSet<>();
    try {
      Collection<List<?>> alt = cert.getSubjectAlternativeNames();
      if (alt != null) {
        for (List<?> entry : alt) {
          if (entry.size() >= 2 && Integer.valueOf(2).equals(entry.get(0))) {
            names.add(entry.get(1).toString().toLowerCase(Locale.ROOT));
          }
        }
      }
    } catch (CertificateParsingException e) {
      // No usable names: the common name below, if any.
    }
    if (names.isEmpty()) {
      String cn = commonName(cert.getSubjectX500Principal());
      if (cn != null) {
        names.add(cn.toLowerCase(Locale.ROOT));
      }
    }
    return List.copyOf(names);
  }

  private static @Nullable String commonName(X500Principal principal) {
    for (String part : principal.getName(X500Principal.RFC2253).split(",")) {
      if (part.startsWith("CN=")) {
        return part.substring(3);
      }
    }
    return null;
  }

  /**
   * The first handler of a new TLS connection: it reads the client's hello, picks the certificate for the name asked,
   * and replaces itself with that context's {@link io.netty.handler.ssl.SslHandler}.
   *
   * @param handshakeTimeoutMillis how long the client has to send its hello and finish the handshake
   */
  public SniHandler newHandler(long handshakeTimeoutMillis) {
    return new SniHandler(mapping, 16 * 1024, handshakeTimeoutMillis);
  }

  /** The context for {@code serverName} (the default one for null or an unknown name). */
  public SslContext contextFor(@Nullable String serverName) {
    return mapping.map(serverName);
  }

  public TlsConfig config() {
    return config;
  }

  public List<Loaded> certificates() {
    return certificates;
  }

  /** Every file read, to watch for changes. */
  public List<Path> files() {
    return config.files();
  }

  /** For the start-up line and the log of a change: each certificate's names and expiry, versions, ALPN. */
  public String describe() {
    List<String> parts = new ArrayList<>();
    for (Loaded l : certificates) {
      parts.add(String.join("|", l.names().isEmpty() ? List.of("(no name)") : l.names()) + " until "
          + l.leaf().getNotAfter().toInstant());
    }
    return "TLS " + String.join(", ", config.protocols()) + " by " + TlsProvider.describe() + ", ALPN "
        + String.join(",", config.alpn()) + ", certificates " + String.join("; ", parts);
  }

  /** A TLS file cannot be used; the message names the field, as a configuration error does. */
  public static final class TlsException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String field;
    private final String value;
    private final String expected;

    public TlsException(String field, String value, String expected) {
      super(field + ": " + value + " (expected: " + expected + ")");
      this.field = field;
      this.value = value;
      this.expected = expected;
    }

    public String field() {
      return field;
    }

    public String value() {
      return value;
    }

    public String expected() {
      return expected;
    }
  }
}
