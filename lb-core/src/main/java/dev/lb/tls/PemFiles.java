package dev.lb.tls;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads PEM files: a certificate chain (the leaf first), and a private key in PKCS#8 ({@code BEGIN PRIVATE KEY}) or
 * its traditional form ({@code BEGIN RSA PRIVATE KEY}, PKCS#1; {@code BEGIN EC PRIVATE KEY}, SEC 1), which the JDK
 * cannot read by itself and which is re-wrapped here as PKCS#8 (a few bytes of DER around the key as it is). Encrypted
 * keys are refused with a message saying so. Reads files: never call it on an event loop.
 */
public final class PemFiles {
  private static final Pattern BLOCK =
      Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*?)-----END \\1-----");
  /** rsaEncryption, 1.2.840.113549.1.1.1, with its NULL parameters. */
  private static final byte[] RSA_ALGORITHM = {
    0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
  /** id-ecPublicKey, 1.2.840.10045.2.1. */
  private static final byte[] EC_PUBLIC_KEY = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};

  /** The named curves P-256 (1.2.840.10045.3.1.7), P-384 (1.3.132.0.34) and P-521 (1.3.132.0.35). */
  private static final byte[] P256 = {0x06, 0x08, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x03, 0x01, 0x07};
  private static final byte[] P384 = {0x06, 0x05, 0x2b, (byte) 0x81, 0x04, 0x00, 0x22};
  private static final byte[] P521 = {0x06, 0x05, 0x2b, (byte) 0x81, 0x04, 0x00, 0x23};

  private PemFiles() {}

  /** A PEM file is missing, unreadable, or not what was expected; the message says which, for a config error. */
  public static final class PemException extends Exception {
    private static final long serialVersionUID = 1L;

    public PemException(String message) {
      super(message);
    }
  }

  /** The certificates of {@code file}, in order. */
  public static List<X509Certificate> certificates(Path file) throws PemException {
    String text = read(file);
    List<X509Certificate> out = new ArrayList<>();
    Matcher m = BLOCK.matcher(text);
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      while (m.find()) {
        if (m.group(1).equals("CERTIFICATE")) {
          out.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(decode(m.group(2)))));
        }
      }
    } catch (CertificateException | IllegalArgumentException e) {
      throw new PemException("a PEM certificate chain: " + e.getMessage());
    }
    if (out.isEmpty()) {
      throw new PemException("a PEM certificate chain: no BEGIN CERTIFICATE block in it");
    }
    return out;
  }

  /** The private key of {@code file}. */
  public static PrivateKey privateKey(Path file) throws PemException {
    String text = read(file);
    Matcher m = BLOCK.matcher(text);
    while (m.find()) {
      String type = m.group(1);
      byte[] der;
      try {
        der = decode(m.group(2));
      } catch (IllegalArgumentException e) {
        throw new PemException("a PEM private key: " + e.getMessage());
      }
      switch (type) {
        case "PRIVATE KEY":
          return pkcs8(der, "RSA", "EC", "Ed25519", "DSA");
        case "RSA PRIVATE KEY":
          return pkcs8(wrap(RSA_ALGORITHM, der), "RSA");
        case "EC PRIVATE KEY":
          return pkcs8(wrap(ecAlgorithm(der), der), "EC");
        case "ENCRYPTED PRIVATE KEY":
          throw new PemException("an unencrypted PEM private key (this one is encrypted: "
              + "openssl pkcs8 -topk8 -nocrypt -in key.pem -out plain.pem)");
        default:
          // Other blocks (EC PARAMETERS, certificates) may come with the key: skipped.
      }
    }
    throw new PemException("a PEM private key: no BEGIN PRIVATE KEY, BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY "
        + "block in it");
  }

  /** Whether {@code key} is the private key of {@code certificate}: it signs what the certificate's key verifies. */
  public static boolean matches(PrivateKey key, X509Certificate certificate) {
    String algorithm = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      case "DSA" -> "SHA256withDSA";
      default -> null;
    };
    if (algorithm == null) {
      return true;   // nothing to check it with; the handshake will tell
    }
    try {
      byte[] probe = "lb key check".getBytes(StandardCharsets.US_ASCII);
      Signature sign = Signature.getInstance(algorithm);
      sign.initSign(key);
      sign.update(probe);
      byte[] signature = sign.sign();
      Signature verify = Signature.getInstance(algorithm);
      verify.initVerify(certificate.getPublicKey());
      verify.update(probe);
      return verify.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static String read(Path file) throws PemException {
    try {
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      throw new PemException("a readable PEM file: no such file");
    } catch (IOException e) {
      throw new PemException("a readable PEM file: " + e);
    }
  }

  private static byte[] decode(String base64) {
    return Base64.getMimeDecoder().decode(base64.trim());
  }

  private static PrivateKey pkcs8(byte[] der, String... algorithms) throws PemException {
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    for (String algorithm : algorithms) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (GeneralSecurityException e) {
        // Not this algorithm: try the next.
      }
    }
    throw new PemException("a PEM private key: not an RSA, EC, Ed25519 or DSA key this JVM can read");
  }

  /** The PKCS#8 AlgorithmIdentifier of a SEC 1 EC key: id-ecPublicKey with the curve the key names. */
  private static byte[] ecAlgorithm(byte[] sec1) throws PemException {
    // ECPrivateKey ::= SEQUENCE { version INTEGER, privateKey OCTET STRING, [0] parameters OPTIONAL, ... }
    try {
      int[] at = {0};
      expect(sec1, at, 0x30);
      length(sec1, at);
      skip(sec1, at, 0x02);
      expect(sec1, at, 0x04);
      int keyLength = length(sec1, at);
      at[0] += keyLength;
      if (at[0] >= sec1.length || (sec1[at[0]] & 0xff) != 0xa0) {
        // No curve named (some writers leave it to the PKCS#8 wrapper): the key's length tells the NIST curve.
        byte[] curve = switch (keyLength) {
          case 32 -> P256;
          case 48 -> P384;
          case 66 -> P521;
          default -> null;
        };
        if (curve != null) {
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          out.writeBytes(EC_PUBLIC_KEY);
          out.writeBytes(curve);
          return tlv(0x30, out.toByteArray());
        }
      }
      if (at[0] < sec1.length && (sec1[at[0]] & 0xff) == 0xa0) {
        at[0]++;
        int len = length(sec1, at);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(EC_PUBLIC_KEY);
        out.write(sec1, at[0], len);
        return tlv(0x30, out.toByteArray());
      }
    } catch (ArrayIndexOutOfBoundsException e) {
      // Fall through: not the structure expected.
    }
    throw new PemException("a PEM private key: an EC PRIVATE KEY block without its curve (write it as PKCS#8: "
        + "openssl pkcs8 -topk8 -nocrypt)");
  }

  private static void expect(byte[] der, int[] at, int tag) throws PemException {
    if ((der[at[0]++] & 0xff) != tag) {
      throw new PemException("a PEM private key: malformed DER");
    }
  }

  private static void skip(byte[] der, int[] at, int tag) throws PemException {
    expect(der, at, tag);
    int len = length(der, at);
    at[0] += len;
  }

  private static int length(byte[] der, int[] at) {
    int first = der[at[0]++] & 0xff;
    if (first < 0x80) {
      return first;
    }
    int n = first & 0x7f;
    int len = 0;
    for (int i = 0; i < n; i++) {
      len = (len << 8) | (der[at[0]++] & 0xff);
    }
    return len;
  }

  /** PrivateKeyInfo ::= SEQUENCE { version 0, algorithm AlgorithmIdentifier, privateKey OCTET STRING }. */
  private static byte[] wrap(byte[] algorithm, byte[] key) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.write(0x02);
    body.write(0x01);
    body.write(0x00);
    body.writeBytes(algorithm);
    body.writeBytes(tlv(0x04, key));
    return tlv(0x30, body.toByteArray());
  }

  private static byte[] tlv(int tag, byte[] value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(value.length + 6);
    out.write(tag);
    int len = value.length;
    if (len < 0x80) {
      out.write(len);
    } else if (len < 0x100) {
      out.write(0x81);
      out.write(len);
    } else if (len < 0x10000) {
      out.write(0x82);
      out.write(len >> 8);
      out.write(len);
    } else {
      out.write(0x83);
      out.write(len >> 16);
      out.write(len >> 8);
      out.write(len);
    }
    out.writeBytes(value);
    return out.toByteArray();
  }
}
