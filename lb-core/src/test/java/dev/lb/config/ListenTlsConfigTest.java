package dev.lb.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.testing.TestCerts;
import dev.lb.tls.TlsConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code listen.tls}, {@code listen.h2c} and {@code listen.http2}: read, printed back, and every mistake named. */
class ListenTlsConfigTest {
  @TempDir Path dir;
  private final TestCerts.Ca ca = TestCerts.newCa("config CA");

  private String[] files(String prefix) {
    Path cert = dir.resolve(prefix + ".crt");
    Path key = dir.resolve(prefix + ".key");
    ca.issue("localhost").write(cert, key);
    return new String[] {cert.toString(), key.toString()};
  }

  private static String config(String listen) {
    return "listen:\n" + listen + "backends: [ \"http://127.0.0.1:8081\" ]\n";
  }

  @Test
  void readsEveryKeyAndPrintsItBack() throws Exception {
    String[] a = files("a");
    String[] b = files("b");
    LbConfig config = ConfigLoaderTest.load(config(
        "  tls:\n"
            + "    cert_file: " + a[0] + "\n"
            + "    key_file: " + a[1] + "\n"
            + "    certificates: [ { cert_file: " + b[0] + ", key_file: " + b[1] + " } ]\n"
            + "    min_version: TLSv1.3\n"
            + "    ciphers: [ TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 ]\n"
            + "    alpn: [ http/1.1 ]\n"
            + "    watch_interval: 2s\n"
            + "  h2c: true\n"
            + "  http2: { max_concurrent_streams: 50, initial_window_size: 1048576, max_pings: 7 }\n"));
    TlsConfig tls = config.listen().tls();
    assertThat(tls).isNotNull();
    assertThat(tls.certificates()).containsExactly(new TlsConfig.CertificateFiles(a[0], a[1]),
        new TlsConfig.CertificateFiles(b[0], b[1]));
    assertThat(tls.protocols()).containsExactly("TLSv1.3");
    assertThat(tls.ciphers()).containsExactly("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    assertThat(tls.alpn()).containsExactly("http/1.1");
    assertThat(tls.offersH2()).isFalse();
    assertThat(tls.watchInterval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(config.listen().h2c()).isTrue();
    assertThat(config.listen().http2().maxConcurrentStreams()).isEqualTo(50);
    assertThat(config.listen().http2().initialWindowSize()).isEqualTo(1 << 20);
    assertThat(config.listen().http2().maxPings()).isEqualTo(7);
    assertThat(config.listen().http2().maxResets()).isEqualTo(Http2Config.defaults().maxResets());
    assertThat(ConfigLoader.parse(ConfigPrinter.toYaml(config, false), java.util.Map.of())).isEqualTo(config);
  }

  @Test
  void defaultsAreTls12UpAndBothProtocols() throws Exception {
    String[] a = files("a");
    LbConfig config = ConfigLoaderTest.load(config("  tls: { cert_file: " + a[0] + ", key_file: " + a[1] + " }\n"));
    assertThat(config.listen().tls()).isEqualTo(TlsConfig.of(List.of(new TlsConfig.CertificateFiles(a[0], a[1]))));
    assertThat(config.listen().tls().protocols()).containsExactly("TLSv1.3", "TLSv1.2");
    assertThat(config.listen().h2c()).isFalse();
    assertThat(ConfigLoaderTest.load(config("  port: 8080\n")).listen().tls()).isNull();
  }

  @Test
  void namesEveryMistake() throws Exception {
    String[] a = files("a");
    String[] b = files("b");
    Path junk = Files.writeString(dir.resolve("junk.pem"), "junk\n");
    assertThat(ConfigLoaderTest.errors(config(
        "  tls:\n"
            + "    key_file: " + a[1] + "\n"
            + "    certificates: [ { cert_file: " + junk + ", key_file: " + a[1] + " }, { cert_file: " + a[0]
            + ", key_file: " + b[1] + " }, { cert: x } ]\n"
            + "    min_version: TLSv1.1\n"
            + "    ciphers: [ TLS_NOT_A_CIPHER ]\n"
            + "    alpn: [ h3, h2, h2 ]\n"
            + "    watch_interval: often\n"
            + "  h2c: maybe\n"
            + "  http2: { max_concurrent_streams: 0, initial_window_size: 100, flood: 1 }\n")))
        .containsExactly(
            "listen.tls.certificates[0].cert_file: " + junk
                + " (expected: a PEM certificate chain: no PEM certificate (BEGIN CERTIFICATE) in it)",
            "listen.tls.certificates[1].key_file: " + b[1]
                + " (expected: the private key of the first certificate in cert_file (this key does not match it))",
            "listen.tls.certificates[2].cert: x (expected: one of cert_file, key_file)",
            "listen.tls.certificates[2].cert_file: (missing) (expected: a PEM certificate chain file)",
            "listen.tls.certificates[2].key_file: (missing) (expected: a PEM private key file)",
            "listen.tls.min_version: TLSv1.1 (expected: one of TLSv1.2, TLSv1.3)",
            "listen.tls.ciphers[0]: TLS_NOT_A_CIPHER (expected: " + TlsBinder.CIPHER + ")",
            "listen.tls.alpn[0]: h3 (expected: a list of h2 and http/1.1, each once)",
            "listen.tls.alpn[2]: h2 (expected: a list of h2 and http/1.1, each once)",
            "listen.tls.watch_interval: often (expected: " + TreeReader.DURATION + ")",
            // A missing key is reported at the end of its section.
            "listen.tls.cert_file: (missing) (expected: a PEM certificate chain file)",
            "listen.h2c: maybe (expected: " + TreeReader.BOOLEAN + ")",
            "listen.http2.max_concurrent_streams: 0 (expected: an integer from 1 to 10000)",
            "listen.http2.initial_window_size: 100 (expected: an integer from 65535 to 2147483647)",
            "listen.http2.flood: 1 (expected: one of " + String.join(", ", ConfigBinder.HTTP2_KEYS) + ")");
  }
}
