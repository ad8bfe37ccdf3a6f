package dev.lb.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lb.testing.TestCerts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerTlsTest {
  @TempDir Path dir;
  private final TestCerts.Ca ca = TestCerts.newCa("unit CA");

  private TlsConfig.CertificateFiles write(String prefix, TestCerts.Issued issued, TestCerts.KeyFormat format) {
    Path cert = dir.resolve(prefix + ".crt");
    Path key = dir.resolve(prefix + ".key");
    issued.write(cert, key, format);
    return new TlsConfig.CertificateFiles(cert.toString(), key.toString());
  }

  @Test
  void readsKeysInEveryFormatOperatorsHave() throws Exception {
    for (TestCerts.KeyType type : TestCerts.KeyType.values()) {
      for (TestCerts.KeyFormat format : TestCerts.KeyFormat.values()) {
        TestCerts.Issued issued = ca.issue(type, "localhost");
        TlsConfig.CertificateFiles files = write(type + "-" + format, issued, format);
        String pem = Files.readString(Path.of(files.keyFile()));
        assertThat(pem).startsWith(format == TestCerts.KeyFormat.PKCS8 ? "-----BEGIN PRIVATE KEY-----"
            : "-----BEGIN " + type + " PRIVATE KEY-----");
        PrivateKey key = PemFiles.privateKey(Path.of(files.keyFile()));
        assertThat(key.getEncoded()).as("%s %s", type, format).isEqualTo(issued.key().getEncoded());
        assertThat(PemFiles.matches(key, issued.certificate())).isTrue();
        ServerTls tls = ServerTls.load(TlsConfig.of(List.of(files)));
        assertThat(tls.certificates()).singleElement().extracting(ServerTls.Loaded::names)
            .isEqualTo(List.of("localhost"));
      }
    }
  }

  @Test
  void readsTheWholeChainInOrder() throws Exception {
    TestCerts.Ca intermediate = ca.intermediate("unit intermediate");
    TestCerts.Issued issued = intermediate.issue("chain.lb.test");
    TlsConfig.CertificateFiles files = write("chain", issued, TestCerts.KeyFormat.PKCS8);
    List<X509Certificate> chain = PemFiles.certificates(Path.of(files.certFile()));
    assertThat(chain).hasSize(2);
    assertThat(chain.get(0)).isEqualTo(issued.certificate());
    assertThat(chain.get(1)).isEqualTo(intermediate.certificate());
  }

  @Test
  void choosesTheCertificateByNameWithWildcardsOneLabelDeep() throws Exception {
    TlsConfig.CertificateFiles first = write("first", ca.issue("a.lb.test", "127.0.0.1"), TestCerts.KeyFormat.PKCS8);
    TlsConfig.CertificateFiles wild = write("wild", ca.issue("*.b.lb.test"), TestCerts.KeyFormat.TRADITIONAL);
    TlsConfig.CertificateFiles again = write("again", ca.issue("a.lb.test", "c.lb.test"), TestCerts.KeyFormat.PKCS8);
    ServerTls tls = ServerTls.load(TlsConfig.of(List.of(first, wild, again)));
    var contexts = tls.certificates();
    assertThat(tls.contextFor("a.lb.test")).isSameAs(contexts.get(0).context());
    assertThat(tls.contextFor("A.LB.Test")).isSameAs(contexts.get(0).context());
    assertThat(tls.contextFor("x.b.lb.test")).isSameAs(contexts.get(1).context());
    assertThat(tls.contextFor("y.x.b.lb.test")).isSameAs(contexts.get(0).context());
    assertThat(tls.contextFor("c.lb.test")).isSameAs(contexts.get(2).context());
    assertThat(tls.contextFor("nobody.lb.test")).isSameAs(contexts.get(0).context());
    assertThat(tls.contextFor(null)).isSameAs(contexts.get(0).context());
    assertThat(tls.describe()).contains("a.lb.test until ", "*.b.lb.test until ", "ALPN h2,http/1.1");
    assertThat(tls.files()).hasSize(6);
  }

  @Test
  void namesTheFieldAndTheReasonOfAFileItCannotUse() throws Exception {
    TlsConfig.CertificateFiles good = write("good", ca.issue("localhost"), TestCerts.KeyFormat.PKCS8);
    TlsConfig.CertificateFiles other = write("other", ca.issue("localhost"), TestCerts.KeyFormat.PKCS8);
    Path missing = dir.resolve("missing.pem");
    Path garbage = Files.writeString(dir.resolve("garbage.pem"), "hello\n");
    assertThatThrownBy(() -> ServerTls.read(new TlsConfig.CertificateFiles(missing.toString(), good.keyFile()),
        "listen.tls."))
        .hasMessage("listen.tls.cert_file: " + missing + " (expected: a readable PEM file: no such file)");
    assertThatThrownBy(() -> ServerTls.read(new TlsConfig.CertificateFiles(garbage.toString(), good.keyFile()),
        "listen.tls."))
        .hasMessageContaining("listen.tls.cert_file: " + garbage + " (expected: a PEM certificate chain: no BEGIN");
    assertThatThrownBy(() -> ServerTls.read(new TlsConfig.CertificateFiles(good.certFile(), good.certFile()),
        "listen.tls."))
        .hasMessageContaining("listen.tls.key_file: ").hasMessageContaining("a PEM private key");
    assertThatThrownBy(() -> ServerTls.read(new TlsConfig.CertificateFiles(good.certFile(), other.keyFile()),
        "listen.tls.certificates[0]."))
        .hasMessageContaining("listen.tls.certificates[0].key_file: ")
        .hasMessageContaining("does not match");
    Path encrypted = Files.writeString(dir.resolve("enc.key"),
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n");
    assertThatThrownBy(() -> ServerTls.read(new TlsConfig.CertificateFiles(good.certFile(), encrypted.toString()),
        "listen.tls."))
        .hasMessageContaining("an unencrypted PEM private key");
  }
}
