package dev.lb.testing;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaMiscPEMGenerator;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificates made in a test: a CA, and leaves it signs for DNS names and IP addresses, written as PEM files the way
 * operators hand them to lb (a leaf then its chain in one file; the key as PKCS#8 or in its traditional RSA or EC
 * form).
 */
public final class TestCerts {
  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  /** How a private key is written. */
  public enum KeyFormat {
    /** {@code BEGIN PRIVATE KEY}. */
    PKCS8,
    /** {@code BEGIN RSA PRIVATE KEY} or {@code BEGIN EC PRIVATE KEY}. */
    TRADITIONAL
  }

  /** Which key a certificate gets. */
  public enum KeyType {
    RSA,
    EC
  }

  /** A certificate with its key and the chain above it (the root excluded). */
  public record Issued(X509Certificate certificate, PrivateKey key, List<X509Certificate> chain) {
    /** Writes the certificate followed by its chain to {@code certFile}, and the key to {@code keyFile}. */
    public void write(Path certFile, Path keyFile, KeyFormat format) {
      List<Object> certs = new ArrayList<>();
      certs.add(certificate);
      certs.addAll(chain);
      writePem(certFile, certs.toArray());
      writeKey(keyFile, key, format);
    }

    public void write(Path certFile, Path keyFile) {
      write(certFile, keyFile, KeyFormat.PKCS8);
    }
  }

  /** A certificate authority: signs leaves. */
  public static final class Ca {
    private final X509Certificate certificate;
    private final KeyPair keys;
    private final List<X509Certificate> chain;

    private Ca(X509Certificate certificate, KeyPair keys, List<X509Certificate> chain) {
      this.certificate = certificate;
      this.keys = keys;
      this.chain = chain;
    }

    public X509Certificate certificate() {
      return certificate;
    }

    /** A client TLS context that trusts this CA alone. */
    public javax.net.ssl.SSLContext trustingContext() {
      try {
        java.security.KeyStore store = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
        store.load(null, null);
        store.setCertificateEntry("ca", certificate);
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
            javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
      } catch (Exception e) {
        throw new IllegalStateException("cannot make a client TLS context", e);
      }
    }

    /** Writes the CA's certificate (what a client trusts) to {@code file}. */
    public Path writeCertificate(Path file) {
      writePem(file, certificate);
      return file;
    }

    /** A leaf for server (and client) authentication with {@code names}: DNS names, wildcards, or IP literals. */
    public Issued issue(KeyType type, String... names) {
      return issue(type, Duration.ofDays(30), names);
    }

    public Issued issue(String... names) {
      return issue(KeyType.EC, names);
    }

    public Issued issue(KeyType type, Duration validity, String... names) {
      try {
        KeyPair leaf = keyPair(type);
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(certificate,
            BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(now.minus(Duration.ofHours(1))),
            Date.from(now.plus(validity)), new X500Name("CN=" + (names.length > 0 ? names[0] : "lb test")),
            leaf.getPublic());
        List<GeneralName> alt = new ArrayList<>();
        for (String n : names) {
          boolean ip = n.matches("[0-9.]+") || n.contains(":");
          alt.add(new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, n));
        }
        if (!alt.isEmpty()) {
          b.addExtension(Extension.subjectAlternativeName, false,
              new GeneralNames(alt.toArray(new GeneralName[0])));
        }
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true,
            new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
            new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(leaf.getPublic()));
        b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(certificate));
        X509Certificate cert = new JcaX509CertificateConverter().getCertificate(b.build(signer(keys)));
        return new Issued(cert, leaf.getPrivate(), chain);
      } catch (Exception e) {
        throw new IllegalStateException("cannot issue a test certificate", e);
      }
    }

    /** A CA under this one: its leaves carry it in their chain. */
    public Ca intermediate(String name) {
      try {
        KeyPair k = keyPair(KeyType.EC);
        X509Certificate cert = caCertificate(name, k, certificate, keys);
        List<X509Certificate> c = new ArrayList<>();
        c.add(cert);
        c.addAll(chain);
        return new Ca(cert, k, c);
      } catch (Exception e) {
        throw new IllegalStateException("cannot make a test CA", e);
      }
    }
  }

  private TestCerts() {}

  /** A new self-signed root CA. */
  public static Ca newCa(String name) {
    try {
      KeyPair k = keyPair(KeyType.EC);
      return new Ca(caCertificate(name, k, null, k), k, List.of());
    } catch (Exception e) {
      throw new IllegalStateException("cannot make a test CA", e);
    }
  }

  private static X509Certificate caCertificate(String name, KeyPair subject, X509Certificate issuer,
      KeyPair issuerKeys) throws Exception {
    Instant now = Instant.now();
    X500Name subjectName = new X500Name("CN=" + name);
    X509v3CertificateBuilder b = issuer == null
        ? new JcaX509v3CertificateBuilder(subjectName, BigInteger.valueOf(SERIAL.incrementAndGet()),
            Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(365))), subjectName,
            subject.getPublic())
        : new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.incrementAndGet()),
            Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(365))), subjectName,
            subject.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
    b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(subject.getPublic()));
    return new JcaX509CertificateConverter().getCertificate(b.build(signer(issuerKeys)));
  }

  private static ContentSigner signer(KeyPair keys) throws Exception {
    String alg = "EC".equals(keys.getPrivate().getAlgorithm()) ? "SHA256withECDSA" : "SHA256withRSA";
    return new JcaContentSignerBuilder(alg).build(keys.getPrivate());
  }

  private static KeyPair keyPair(KeyType type) throws GeneralSecurityException {
    if (type == KeyType.RSA) {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048, new SecureRandom());
      return g.generateKeyPair();
    }
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
    return g.generateKeyPair();
  }

  /** Writes {@code objects} (certificates, keys) as PEM to {@code file}, replacing it. */
  public static void writePem(Path file, Object... objects) {
    try {
      StringWriter out = new StringWriter();
      try (JcaPEMWriter pem = new JcaPEMWriter(out)) {
        for (Object o : objects) {
          pem.writeObject(o);
        }
      }
      Files.writeString(file, out.toString(), StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes {@code key} to {@code file} in {@code format}. */
  public static void writeKey(Path file, PrivateKey key, KeyFormat format) {
    try {
      StringWriter out = new StringWriter();
      try (JcaPEMWriter pem = new JcaPEMWriter(out)) {
        if (format == KeyFormat.PKCS8) {
          pem.writeObject(new JcaPKCS8Generator(key, null));
        } else {
          pem.writeObject(new JcaMiscPEMGenerator(key));
        }
      }
      Files.writeString(file, out.toString(), StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
