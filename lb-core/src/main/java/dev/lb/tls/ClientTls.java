package dev.lb.tls;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.NetUtil;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import org.jspecify.annotations.Nullable;

/**
 * The client side of TLS to backends: one {@link SslContext} (of {@link TlsProvider#provider()}) made from a CA file
 * or the JVM's default trust store, or trusting anything, and optionally a client certificate and key; and the
 * {@link SslHandler} of each connection, which sends SNI and verifies the backend's certificate and its name.
 *
 * <p>Made once per distinct setting when the configuration is read (never on an event loop: the files are read
 * here); connections share it. Two contexts made from the same settings and file contents are {@link #equals equal},
 * so a reload that changed nothing keeps the backends as they are, and one that changed a file's contents does not.
 */
public final class ClientTls {
  /** Which file of a context is wrong. */
  public enum Part {
    CA_FILE,
    CLIENT_CERT_FILE,
    CLIENT_KEY_FILE
  }

  /**
   * A file of the context that cannot be used: which one, and what is wrong with it ({@code file not found}, {@code no
   * PEM certificate (BEGIN CERTIFICATE) in it}...), for the configuration's error line.
   */
  public static final class FileException extends Exception {
    private final Part part;

    FileException(Part part, String problem) {
      super(problem, null, false, false);
      this.part = part;
    }

    public Part part() {
      return part;
    }
  }

  private final SslContext context;
  private final boolean verify;
  /** What the context was made from: the settings and each file's SHA-256. */
  private final String identity;
  private final String caDigest;
  private final String certDigest;
  private final String keyDigest;

  private ClientTls(SslContext context, boolean verify, String caDigest, String certDigest, String keyDigest) {
    this.context = context;
    this.verify = verify;
    this.caDigest = caDigest;
    this.certDigest = certDigest;
    this.keyDigest = keyDigest;
    this.identity = (verify ? "verify" : "insecure") + " ca=" + caDigest + " cert=" + certDigest + " key=" + keyDigest;
  }

  /**
   * Reads the files and makes the context.
   *
   * @param caFile PEM certificates of the CAs to trust instead of the JVM's default ones; null for those
   * @param insecure trust any certificate for any name (nothing is verified)
   * @param certFile the client certificate (then its chain) to present when the backend asks; null for none
   * @param keyFile the private key of {@code certFile}; null exactly when {@code certFile} is
   * @throws FileException naming the file that is missing, unreadable, not PEM, or not matching
   */
  public static ClientTls load(@Nullable Path caFile, boolean insecure, @Nullable Path certFile,
      @Nullable Path keyFile) throws FileException {
    if ((certFile == null) != (keyFile == null)) {
      throw new IllegalArgumentException("a client certificate and its key go together");
    }
    SslContextBuilder b = SslContextBuilder.forClient().sslProvider(TlsProvider.provider());
    String caDigest = "";
    if (insecure) {
      b.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
    } else {
      b.endpointIdentificationAlgorithm("HTTPS");
    }
    if (caFile != null) {
      byte[] bytes = read(caFile, Part.CA_FILE);
      caDigest = digest(bytes);
      List<X509Certificate> cas = parse(Part.CA_FILE, () -> Pem.certificates(bytes));
      if (!insecure) {
        b.trustManager(cas);
      }
    }
    String certDigest = "";
    String keyDigest = "";
    if (certFile != null && keyFile != null) {
      byte[] certBytes = read(certFile, Part.CLIENT_CERT_FILE);
      byte[] keyBytes = read(keyFile, Part.CLIENT_KEY_FILE);
      certDigest = digest(certBytes);
      keyDigest = digest(keyBytes);
      List<X509Certificate> chain = parse(Part.CLIENT_CERT_FILE, () -> Pem.certificates(certBytes));
      PrivateKey key = parse(Part.CLIENT_KEY_FILE, () -> Pem.privateKey(keyBytes, chain.get(0).getPublicKey()));
      if (!PemFiles.matches(key, chain.get(0).getPublicKey())) {
        throw new FileException(Part.CLIENT_KEY_FILE, "not the private key of the client certificate (the first"
            + " certificate of its file)");
      }
      b.keyManager(key, chain);
    }
    try {
      return new ClientTls(b.build(), !insecure, caDigest, certDigest, keyDigest);
    } catch (SSLException | RuntimeException e) {
      // The files parsed, so what is left is the provider refusing them (a key type it lacks, say).
      Part part = certFile != null ? Part.CLIENT_KEY_FILE : Part.CA_FILE;
      throw new FileException(part, "the TLS provider refuses it: " + e.getMessage());
    }
  }

  /** A context trusting the JVM's default CAs, without a client certificate. */
  public static ClientTls systemDefault() {
    try {
      return load(null, false, null, null);
    } catch (FileException e) {
      throw new IllegalStateException("no file is read for the default TLS context", e);
    }
  }

  private interface Parse<T> {
    T get();
  }

  private static <T> T parse(Part part, Parse<T> parse) throws FileException {
    try {
      return parse.get();
    } catch (IllegalArgumentException e) {
      throw new FileException(part, e.getMessage());
    }
  }

  private static byte[] read(Path file, Part part) throws FileException {
    try {
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new FileException(part, "file not found");
    } catch (AccessDeniedException e) {
      throw new FileException(part, "permission denied");
    } catch (IOException e) {
      throw new FileException(part, Files.isDirectory(file) ? "a directory"
          : "cannot read: " + e.getMessage());
    }
  }

  /** Whether the key signs what the certificate's public key verifies. */
  private static String digest(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /** Whether the backend's certificate and name are verified ({@code insecure_skip_verify} is false). */
  public boolean verifies() {
    return verify;
  }

  /** The context, for tests. */
  public SslContext context() {
    return context;
  }

  /**
   * The first 12 hex digits of the SHA-256 of a file the context was made from (for reload logs); empty when it was
   * made without that file.
   */
  public String digest(Part part) {
    String d = switch (part) {
      case CA_FILE -> caDigest;
      case CLIENT_CERT_FILE -> certDigest;
      case CLIENT_KEY_FILE -> keyDigest;
    };
    return d.isEmpty() ? d : d.substring(0, 12);
  }

  /**
   * The TLS handler of a new connection to {@code peerName} (a host name, sent as SNI; an IP literal, sent as none),
   * verifying the certificate against that name unless the context trusts anything. The handshake must end within
   * {@code handshakeTimeoutMillis} of the connection's start.
   */
  public SslHandler newHandler(ByteBufAllocator alloc, String peerName, int port, long handshakeTimeoutMillis) {
    SslHandler handler = context.newHandler(alloc, peerName, port);
    SSLEngine engine = handler.engine();
    SSLParameters params = engine.getSSLParameters();
    if (verify) {
      params.setEndpointIdentificationAlgorithm("HTTPS");
    }
    if (!NetUtil.isValidIpV4Address(peerName) && !NetUtil.isValidIpV6Address(peerName)) {
      // Set whatever the name: the engines send SNI on their own only for names with a dot ("localhost" has none).
      params.setServerNames(List.of(new SNIHostName(peerName)));
    }
    engine.setSSLParameters(params);
    handler.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
    return handler;
  }

  /**
   * A future of the connection that completes when {@code connect} did and then the TLS handshake on {@code tls}
   * succeeded: so that callers see a connection that is ready, or a failure whose message starts with
   * {@code TLS handshake failed:}. A failed handshake closes the channel.
   */
  public static ChannelFuture handshaken(ChannelFuture connect, SslHandler tls) {
    Channel ch = connect.channel();
    ChannelPromise done = ch.newPromise();
    connect.addListener(f -> {
      if (!f.isSuccess()) {
        done.tryFailure(f.cause());
      }
    });
    tls.handshakeFuture().addListener(f -> {
      if (f.isSuccess()) {
        done.trySuccess();
        return;
      }
      if (connect.isDone() && !connect.isSuccess()) {
        done.tryFailure(requireNonNull(connect.cause()));
      } else {
        done.tryFailure(handshakeFailure(f.cause()));
      }
      ch.close();
    });
    return done;
  }

  /** {@code TLS handshake failed: } and what the provider said, with the underlying cause when it says more. */
  public static SSLHandshakeException handshakeFailure(@Nullable Throwable cause) {
    SSLHandshakeException e = new SSLHandshakeException(FAILED + describe(cause));
    if (cause != null) {
      e.initCause(cause);
    }
    return e;
  }

  /** How every message of a handshake failure starts. */
  public static final String FAILED = "TLS handshake failed: ";

  /**
   * The messages along a cause chain, each once, joined by {@code : } (three at most), without the class names a
   * wrapper's message repeats and without the providers' {@code General ... problem} when a cause says more.
   */
  static String describe(@Nullable Throwable cause) {
    if (cause == null) {
      return "closed";
    }
    if (cause instanceof SSLHandshakeException && cause.getMessage() != null
        && cause.getMessage().startsWith(FAILED)) {
      return cause.getMessage().substring(FAILED.length());
    }
    List<String> parts = new java.util.ArrayList<>();
    for (Throwable t = cause; t != null && parts.size() < 3; t = t.getCause() == t ? null : t.getCause()) {
      String m = t.getMessage();
      if (m == null || m.isBlank()) {
        continue;
      }
      m = QUALIFIED_NAME.matcher(m).replaceAll("").strip();
      if (m.endsWith(".")) {
        m = m.substring(0, m.length() - 1);
      }
      if (GENERAL.matcher(m).matches() && t.getCause() != null) {
        continue;
      }
      String found = m;
      if (!m.isEmpty() && parts.stream().noneMatch(p -> p.contains(found))) {
        parts.add(m);
      }
    }
    return parts.isEmpty() ? cause.getClass().getSimpleName() : String.join(": ", parts);
  }

  /** {@code javax.net.ssl.SSLHandshakeException: } in a message: a cause's toString(), saying nothing to operators. */
  private static final java.util.regex.Pattern QUALIFIED_NAME =
      java.util.regex.Pattern.compile("(?:[a-z_$][\\w$]*\\.)+[A-Z][\\w$]*: ");
  /** What the JDK and Netty's OpenSSL engine say before the cause that tells what went wrong. */
  private static final java.util.regex.Pattern GENERAL = java.util.regex.Pattern.compile("General \\w+ problem");

  @Override
  public boolean equals(Object o) {
    return o instanceof ClientTls other && identity.equals(other.identity);
  }

  @Override
  public int hashCode() {
    return identity.hashCode();
  }

  @Override
  public String toString() {
    return "ClientTls(" + identity + ")";
  }
}
