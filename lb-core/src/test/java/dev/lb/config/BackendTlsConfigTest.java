package dev.lb.config;

import static dev.lb.config.ConfigLoaderTest.errors;
import static dev.lb.config.ConfigLoaderTest.load;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.testing.TestCerts;
import dev.lb.tls.ClientTls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@code https://} backends and {@code tls} blocks in the configuration: what they mean and how mistakes are named. */
class BackendTlsConfigTest {
  @TempDir
  static Path dir;
  private static String ca;
  private static String cert;
  private static String key;
  private static String otherKey;

  @BeforeAll
  static void certificates() {
    TestCerts.Ca authority = TestCerts.newCa("config test CA");
    ca = authority.writeCertificate(dir.resolve("ca.pem")).toString();
    TestCerts.Issued client = authority.issue("lb-client");
    client.write(dir.resolve("client.pem"), dir.resolve("client.key"));
    cert = dir.resolve("client.pem").toString();
    key = dir.resolve("client.key").toString();
    authority.issue("someone-else").write(dir.resolve("other.pem"), dir.resolve("other.key"));
    otherKey = dir.resolve("other.key").toString();
  }

  @Test
  void anHttpsUrlDefaultsToPort443AndVerifiesAgainstTheDefaultCas() throws ConfigException {
    LbConfig config = load("backends: [HTTPS://API.Example.com, 'https://[::1]:8443/', http://10.0.0.1]\n");
    BackendConfig api = config.backends().get(0);
    assertThat(api.url()).isEqualTo("https://api.example.com:443");
    assertThat(api.port()).isEqualTo(443);
    assertThat(api.https()).isTrue();
    assertThat(api.tls().keys()).isEqualTo(BackendTlsConfig.DEFAULT_KEYS);
    assertThat(api.tls().client().verifies()).isTrue();
    assertThat(api.tls().peerName(api.host())).isEqualTo("api.example.com");
    assertThat(config.backends().get(1).url()).isEqualTo("https://[::1]:8443");
    assertThat(config.backends().get(2).tls()).isNull();
    // One context for the backends that share settings.
    assertThat(config.backends().get(1).tls().client()).isSameAs(api.tls().client());
  }

  @Test
  void anUpstreamsBlockIsInheritedKeyByKeyByItsBackendsAndDnsMembers() throws ConfigException {
    LbConfig config = load("""
        upstreams:
          api:
            tls: { ca_file: %s, client_cert_file: %s, client_key_file: %s }
            backends:
              - https://10.0.0.1:8443
              - { url: https://10.0.0.2:8443, tls: { server_name: api.internal } }
              - { url: https://10.0.0.3:8443, tls: { insecure_skip_verify: true } }
              - { dns: api-hl.prod.svc.cluster.local, port: 8443 }
              - { srv: _https._tcp.web.example.com }
        routes: [ { upstream: api } ]
        """.formatted(ca, cert, key));
    UpstreamConfig api = config.upstreams().get(0);
    assertThat(api.tls().keys()).isEqualTo(new BackendTlsConfig.Keys(ca, false, cert, key, ""));
    assertThat(api.backends().get(0).tls()).isEqualTo(api.tls());
    BackendTlsConfig named = api.backends().get(1).tls();
    assertThat(named.keys()).isEqualTo(new BackendTlsConfig.Keys(ca, false, cert, key, "api.internal"));
    assertThat(named.client()).isSameAs(api.tls().client());
    assertThat(named.peerName("10.0.0.2")).isEqualTo("api.internal");
    BackendTlsConfig insecure = api.backends().get(2).tls();
    assertThat(insecure.keys()).isEqualTo(new BackendTlsConfig.Keys(ca, true, cert, key, ""));
    assertThat(insecure.client().verifies()).isFalse();
    assertThat(api.dns()).allSatisfy(d -> assertThat(d.tls()).isEqualTo(api.tls()));
    assertThat(api.dns().get(0).tlsName()).isEqualTo("api-hl.prod.svc.cluster.local");
    assertThat(api.dns().get(1).tlsName()).isEqualTo("web.example.com");
  }

  @Test
  void aDnsEntryIsPlainUnlessItOrItsUpstreamHasATlsBlock() throws ConfigException {
    LbConfig config = load("""
        backends:
          - { dns: plain.local, port: 80 }
          - { dns: secure.local, port: 443, tls: {} }
        """);
    assertThat(config.dnsBackends().get(0).tls()).isNull();
    assertThat(config.dnsBackends().get(1).tls().keys()).isEqualTo(BackendTlsConfig.DEFAULT_KEYS);
  }

  @Test
  void existingConfigurationsKeepTheirMeaning() throws ConfigException {
    LbConfig config = load("backends: [http://127.0.0.1:8081, { url: 'http://[::1]', weight: 2 }]\n");
    assertThat(config.backends()).extracting(BackendConfig::url)
        .containsExactly("http://127.0.0.1:8081", "http://[::1]:80");
    assertThat(config.backends()).allSatisfy(b -> assertThat(b.tls()).isNull());
    assertThat(ConfigPrinter.toYaml(config, false)).doesNotContain("tls");
  }

  @Test
  void mistakesAreNamedByTheirField() throws Exception {
    Path notPem = Files.writeString(dir.resolve("not.pem"), "hello\n");
    assertThat(errors("""
        backends:
          - { url: http://10.0.0.1, tls: { ca_file: %1$s } }
          - { url: https://10.0.0.2, tls: { verify: true } }
          - { url: https://10.0.0.3, tls: { ca_file: %1$s, insecure_skip_verify: true } }
          - { url: https://10.0.0.4, tls: { client_cert_file: %2$s } }
          - { url: https://10.0.0.5, tls: { server_name: "bad name", insecure_skip_verify: maybe } }
          - { url: https://10.0.0.6, tls: [ca_file] }
        upstreams:
          api:
            tls: { ca_file: %3$s/missing.pem }
            backends: [ https://10.0.0.7 ]
          web:
            tls: { ca_file: %4$s }
            backends: [ https://10.0.0.8, http://10.0.0.9 ]
          mtls:
            tls: { client_cert_file: %2$s, client_key_file: %5$s }
            backends: [ https://10.0.0.10 ]
          dir:
            backends: [ { dns: a.local, port: 443, tls: { ca_file: %3$s } } ]
        routes: [ { upstream: api }, { upstream: web }, { upstream: mtls }, { upstream: dir } ]
        """.formatted(ca, cert, dir, notPem, otherKey))).containsExactly(
            "backends[0].tls: {ca_file: " + ca + "} (expected: no tls beside an http:// URL (write https:// to reach"
                + " the backend over TLS))",
            "backends[1].tls.verify: true (expected: one of ca_file, insecure_skip_verify, client_cert_file,"
                + " client_key_file, server_name)",
            "backends[2].tls.insecure_skip_verify: true (expected: false beside ca_file (with true nothing is"
                + " verified, so the CA would not be used))",
            "backends[3].tls.client_key_file: (missing) (expected: the private key of client_cert_file: both or"
                + " neither)",
            "backends[4].tls.server_name: bad name (expected: a host name (or an IP address) to send as SNI and"
                + " verify the certificate for)",
            "backends[4].tls.insecure_skip_verify: maybe (expected: true or false)",
            "backends[5].tls: [ca_file] (expected: a map with keys ca_file, insecure_skip_verify, client_cert_file,"
                + " client_key_file, server_name)",
            "upstreams.api.tls.ca_file: " + dir + "/missing.pem (expected: a PEM file of CA certificates: file not"
                + " found)",
            "upstreams.web.tls.ca_file: " + notPem + " (expected: a PEM file of CA certificates: no PEM certificate"
                + " (BEGIN CERTIFICATE) in it)",
            "upstreams.web.backends[1]: http://10.0.0.9 (expected: an https:// URL (upstreams.web.tls makes every"
                + " backend of the upstream a TLS one))",
            "upstreams.mtls.tls.client_key_file: " + otherKey + " (expected: a PEM file of the client certificate's"
                + " private key: not the private key of the client certificate (the first certificate of its"
                + " file))",
            "upstreams.dir.backends[0].tls.ca_file: " + dir + " (expected: a PEM file of CA certificates: a"
                + " directory)");
  }

  @ParameterizedTest
  @EnumSource(TestCerts.KeyType.class)
  void clientKeysAreReadInPkcs8AndInTheirTraditionalForm(TestCerts.KeyType type) throws Exception {
    TestCerts.Issued issued = TestCerts.newCa("keys").issue(type, "lb-client");
    for (TestCerts.KeyFormat format : TestCerts.KeyFormat.values()) {
      Path c = dir.resolve(type + "-" + format + ".pem");
      Path k = dir.resolve(type + "-" + format + ".key");
      issued.write(c, k, format);
      String header = Files.readString(k).lines().findFirst().orElseThrow();
      assertThat(header).isEqualTo(format == TestCerts.KeyFormat.PKCS8 ? "-----BEGIN PRIVATE KEY-----"
          : "-----BEGIN " + type + " PRIVATE KEY-----");
      LbConfig config = load(("backends: [ { url: https://10.0.0.1, tls: { client_cert_file: %s,"
          + " client_key_file: %s } } ]\n").formatted(c, k));
      assertThat(config.backends().get(0).tls().clientKeyFile()).isEqualTo(k.toString());
    }
  }

  @Test
  void printedConfigurationsLoadBackToThemselvesWithTheirTlsBlocks() throws ConfigException {
    LbConfig config = load("""
        backends:
          - https://10.0.0.1
          - { url: https://10.0.0.2, tls: { ca_file: %1$s, server_name: api.internal } }
          - { dns: a.local, port: 443, tls: {} }
        upstreams:
          api:
            tls: { ca_file: %1$s, client_cert_file: %2$s, client_key_file: %3$s }
            backends:
              - https://10.0.0.3
              - { url: https://10.0.0.4, tls: { insecure_skip_verify: true } }
              - { dns: b.local, port: 443 }
        routes: [ { upstream: api } ]
        """.formatted(ca, cert, key));
    String yaml = ConfigPrinter.toYaml(config, false);
    assertThat(ConfigLoader.parse(yaml, Map.of())).isEqualTo(config);
    // A backend's block is printed only where it differs from what it inherits.
    assertThat(yaml).contains("""
          - url: https://10.0.0.1:443
            weight: 1
          - url: https://10.0.0.2:443
            weight: 1
            tls:
              ca_file: %s
              insecure_skip_verify: false
              server_name: api.internal
        """.formatted(ca));
    assertThat(yaml).contains("""
              - url: https://10.0.0.3:443
                weight: 1
              - url: https://10.0.0.4:443
                weight: 1
                tls:
        """);
    assertThat(yaml).contains("""
            tls:
              ca_file: %s
              insecure_skip_verify: false
              client_cert_file: %s
              client_key_file: %s
        """.formatted(ca, cert, key));
  }

  @Test
  void aReloadSeesACaFileWhoseContentsChangedUnderItsName() throws Exception {
    Path file = dir.resolve("rotated-ca.pem");
    TestCerts.newCa("first").writeCertificate(file);
    String yaml = "backends: [ { url: https://10.0.0.1, tls: { ca_file: %s } } ]\n".formatted(file);
    LbConfig before = load(yaml);
    assertThat(ConfigDiff.changes(before, load(yaml))).isEmpty();
    assertThat(load(yaml)).isEqualTo(before);
    TestCerts.newCa("second").writeCertificate(file);
    LbConfig after = load(yaml);
    assertThat(after).isNotEqualTo(before);
    String digest = before.backends().get(0).tls().client().digest(ClientTls.Part.CA_FILE);
    assertThat(ConfigDiff.changes(before, after)).singleElement().satisfies(line -> assertThat(line)
        .startsWith("backends: [{url: https://10.0.0.1:443, weight: 1, tls: {ca_file: " + file + " (sha256 "
            + digest + "), insecure_skip_verify: false}}] -> "));
  }
}
