package dev.lb.tls;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * PEM files as operators hand them over: certificates ({@code BEGIN CERTIFICATE}, several in one file, text between
 * them ignored) and private keys, PKCS#8 ({@code BEGIN PRIVATE KEY}) or in their traditional form
 * ({@code BEGIN RSA PRIVATE KEY}, {@code BEGIN EC PRIVATE KEY}, as cert-manager and {@code openssl genrsa} write them),
 * read with the JDK alone. Each failure is an {@link IllegalArgumentException} whose message says what is wrong with
 * the text.
 */
final class Pem {
  private static final Pattern BLOCK =
      Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*?)-----END \\1-----");
  /** rsaEncryption, 1.2.840.113549.1.1.1, DER-encoded with its tag. */
  private static final byte[] RSA_OID = {0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01,
      0x01, 0x01};
  /** id-ecPublicKey, 1.2.840.10045.2.1, DER-encoded with its tag. */
  private static final byte[] EC_OID = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};
  private static final byte[] DER_NULL = {0x05, 0x00};

  private Pem() {}

  /** One block: its label ({@code CERTIFICATE}, {@code PRIVATE KEY}...) and its decoded bytes. */
  record Block(String label, byte[] der) {}

  static List<Block> blocks(byte[] file) {
    String text = new String(file, StandardCharsets.US_ASCII);
    List<Block> out = new ArrayList<>();
    Matcher m = BLOCK.matcher(text);
    while (m.find()) {
      try {
        out.add(new Block(m.group(1), Base64.getMimeDecoder().decode(m.group(2))));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("the PEM block " + m.group(1) + " is not valid base64");
      }
    }
    return out;
  }

  /** Every certificate of the file, in order; at least one. */
  static List<X509Certificate> certificates(byte[] file) {
    List<X509Certificate> out = new ArrayList<>();
    CertificateFactory factory;
    try {
      factory = CertificateFactory.getInstance("X.509");
    } catch (CertificateException e) {
      throw new IllegalStateException("the JDK has no X.509 certificate factory", e);
    }
    for (Block b : blocks(file)) {
      if (!b.label().equals("CERTIFICATE")) {
        continue;
      }
      try {
        out.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(b.der())));
      } catch (CertificateException | ClassCastException e) {
        throw new IllegalArgumentException("a certificate cannot be parsed: " + e.getMessage());
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("no PEM certificate (BEGIN CERTIFICATE) in it");
    }
    return out;
  }

  /**
   * The one private key of the file.
   *
   * @param certificateKey the public key of the certificate it goes with: an EC key written without its curve (which
   *     RFC 5915 asks for, but some tools leave out) is taken to be on that key's curve; null for none
   */
  static PrivateKey privateKey(byte[] file, @Nullable PublicKey certificateKey) {
    List<Block> keys = new ArrayList<>();
    for (Block b : blocks(file)) {
      if (b.label().endsWith("PRIVATE KEY")) {
        keys.add(b);
      }
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("no PEM private key (BEGIN PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY) in"
          + " it");
    }
    if (keys.size() > 1) {
      throw new IllegalArgumentException(keys.size() + " private keys in it, not one");
    }
    Block key = keys.get(0);
    return switch (key.label()) {
      case "PRIVATE KEY" -> pkcs8(key.der(), "RSA", "EC", "Ed25519", "Ed448");
      case "RSA PRIVATE KEY" -> pkcs8(wrap(seq(RSA_OID, DER_NULL), key.der()), "RSA");
      case "EC PRIVATE KEY" -> pkcs8(wrap(seq(EC_OID, curveOf(key.der(), certificateKey)), key.der()), "EC");
      case "ENCRYPTED PRIVATE KEY" -> throw new IllegalArgumentException(
          "the key is encrypted (write it unencrypted: openssl pkey -in KEY -out PLAIN)");
      default -> throw new IllegalArgumentException("BEGIN " + key.label() + " is not a private key lb reads");
    };
  }

  private static PrivateKey pkcs8(byte[] der, String... algorithms) {
    for (String algorithm : algorithms) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException | RuntimeException e) {
        // The next algorithm, or the error below.
      }
    }
    throw new IllegalArgumentException("the private key cannot be parsed (RSA, EC or EdDSA expected)");
  }

  /** PrivateKeyInfo (PKCS#8, version 0) around a traditional key. */
  private static byte[] wrap(byte[] algorithm, byte[] key) {
    return seq(new byte[] {0x02, 0x01, 0x00}, algorithm, tlv(0x04, key));
  }

  /** The named curve of an SEC 1 ECPrivateKey: its {@code [0] parameters} field, else the certificate key's curve. */
  private static byte[] curveOf(byte[] sec1, @Nullable PublicKey paired) {
    Der outer = new Der(sec1, 0);
    if (outer.tag != 0x30) {
      throw new IllegalArgumentException("the EC private key cannot be parsed");
    }
    int at = outer.contentStart;
    while (at < outer.end) {
      Der field = new Der(sec1, at);
      if (field.tag == 0xa0) {
        Der oid = new Der(sec1, field.contentStart);
        if (oid.tag == 0x06) {
          return java.util.Arrays.copyOfRange(sec1, field.contentStart, oid.end);
        }
      }
      at = field.end;
    }
    if (paired != null && paired.getAlgorithm().equals("EC")) {
      // SubjectPublicKeyInfo: SEQUENCE { SEQUENCE { id-ecPublicKey, namedCurve }, BIT STRING }.
      byte[] spki = paired.getEncoded();
      Der algorithm = new Der(spki, new Der(spki, 0).contentStart);
      Der oid = new Der(spki, algorithm.contentStart);
      Der curve = new Der(spki, oid.end);
      if (curve.tag == 0x06) {
        return java.util.Arrays.copyOfRange(spki, oid.end, curve.end);
      }
    }
    throw new IllegalArgumentException("the EC private key names no curve");
  }

  private static byte[] seq(byte[]... parts) {
    ByteArrayOutputStream content = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      content.writeBytes(p);
    }
    return tlv(0x30, content.toByteArray());
  }

  private static byte[] tlv(int tag, byte[] content) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 6);
    out.write(tag);
    int n = content.length;
    if (n < 0x80) {
      out.write(n);
    } else {
      int bytes = n > 0xffffff ? 4 : n > 0xffff ? 3 : n > 0xff ? 2 : 1;
      out.write(0x80 | bytes);
      for (int i = bytes - 1; i >= 0; i--) {
        out.write(n >>> (8 * i));
      }
    }
    out.writeBytes(content);
    return out.toByteArray();
  }

  /** One DER element: its tag, where its content starts, where it ends. */
  private static final class Der {
    final int tag;
    final int contentStart;
    final int end;

    Der(byte[] der, int at) {
      if (at + 2 > der.length) {
        throw new IllegalArgumentException("the private key cannot be parsed (truncated)");
      }
      tag = der[at] & 0xff;
      int len = der[at + 1] & 0xff;
      int start = at + 2;
      if (len >= 0x80) {
        int bytes = len & 0x7f;
        if (bytes < 1 || bytes > 3 || start + bytes > der.length) {
          throw new IllegalArgumentException("the private key cannot be parsed (bad length)");
        }
        len = 0;
        for (int i = 0; i < bytes; i++) {
          len = (len << 8) | (der[start + i] & 0xff);
        }
        start += bytes;
      }
      if (start + len > der.length) {
        throw new IllegalArgumentException("the private key cannot be parsed (truncated)");
      }
      contentStart = start;
      end = start + len;
    }
  }
}
