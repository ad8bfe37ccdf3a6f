package dev.lb.tls;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Reads the PEM files of the listener's certificates: a certificate chain (the leaf first), and a private key in
 * PKCS#8 or its traditional RSA or EC form ({@link Pem} parses them). Problems come back as a {@link PemException}
 * whose message completes a configuration error's "expected: ...". Reads files: never call it on an event loop.
 */
public final class PemFiles {
  private PemFiles() {}

  /** A PEM file is missing, unreadable, or not what was expected; the message says which, for a config error. */
  public static final class PemException extends Exception {
    private static final long serialVersionUID = 1L;

    public PemException(String message) {
      super(message);
    }
  }

  /** The certificates of {@code file}, in order; at least one. */
  public static List<X509Certificate> certificates(Path file) throws PemException {
    byte[] bytes = read(file);
    try {
      return Pem.certificates(bytes);
    } catch (IllegalArgumentException e) {
      throw new PemException("a PEM certificate chain: " + e.getMessage());
    }
  }

  /**
   * The private key of {@code file}.
   *
   * @param certificateKey the public key of its certificate (an EC key written without its curve takes that key's)
   */
  public static PrivateKey privateKey(Path file, @Nullable PublicKey certificateKey) throws PemException {
    byte[] bytes = read(file);
    try {
      return Pem.privateKey(bytes, certificateKey);
    } catch (IllegalArgumentException e) {
      String why = e.getMessage();
      throw new PemException(why.startsWith("the key is encrypted") ? "an unencrypted PEM private key (" + why + ")"
          : "a PEM private key: " + why);
    }
  }

  /** Whether {@code key} is the private key of {@code certificate}. */
  public static boolean matches(PrivateKey key, X509Certificate certificate) {
    return matches(key, certificate.getPublicKey());
  }

  /** Whether {@code key} is the private key for {@code pub}: it signs what {@code pub} verifies. */
  public static boolean matches(PrivateKey key, PublicKey pub) {
    String algorithm = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "Ed25519", "Ed448", "EdDSA" -> key.getAlgorithm();
      default -> null;
    };
    if (algorithm == null || !key.getAlgorithm().equals(pub.getAlgorithm())
        && !(key.getAlgorithm().startsWith("Ed") && pub.getAlgorithm().startsWith("Ed"))) {
      return false;
    }
    try {
      byte[] probe = "lb key check".getBytes(StandardCharsets.US_ASCII);
      Signature s = Signature.getInstance(algorithm);
      s.initSign(key);
      s.update(probe);
      byte[] signed = s.sign();
      Signature v = Signature.getInstance(algorithm);
      v.initVerify(pub);
      v.update(probe);
      return v.verify(signed);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static byte[] read(Path file) throws PemException {
    try {
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new PemException("a readable PEM file: no such file");
    } catch (IOException e) {
      throw new PemException("a readable PEM file: " + e);
    }
  }
}
