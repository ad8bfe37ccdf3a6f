package dev.lb.it;

import static dev.lb.it.LbAssertions.assertJsonError;
import static dev.lb.it.LbAssertions.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.RawResponse;
import dev.lb.it.support.TestBackend;
import dev.lb.it.support.TlsServer;
import dev.lb.testing.Dnsmasq;
import dev.lb.testing.TestCerts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backends over TLS ({@code https://} URLs), over real sockets, with certificates made here by a CA of the test's
 * own: verified against {@code ca_file} (requests proxied, probes pass, connections pooled), refused without it (502,
 * the reason in {@code /backends}, probes failing), {@code insecure_skip_verify}, a certificate for another name
 * refused, {@code server_name}, no SNI to an IP address, and a client certificate for a backend that requires one.
 */
class BackendTlsIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir
  static Path dir;
  private static TestCerts.Ca authority;
  private static Path ca;
  private static Path clientCert;
  private static Path clientKey;
  /** A certificate for localhost and 127.0.0.1 from the test CA. */
  private static TestBackend secure;
  /** A certificate from the test CA for another name only. */
  private static TestBackend otherName;
  /** Requires a client certificate from the test CA. */
  private static TestBackend mutual;
  private static final List<TestBackend> started = new ArrayList<>();

  @BeforeAll
  static void start() {
    authority = TestCerts.newCa("test CA");
    ca = authority.writeCertificate(dir.resolve("ca.pem"));
    authority.issue("localhost", "127.0.0.1").write(dir.resolve("local.pem"), dir.resolve("local.key"));
    authority.issue("backend.example").write(dir.resolve("other.pem"), dir.resolve("other.key"));
    authority.issue("lb-client").write(dir.resolve("client.pem"), dir.resolve("client.key"));
    clientCert = dir.resolve("client.pem");
    clientKey = dir.resolve("client.key");
    secure = backend("secure", new TlsServer(dir.resolve("local.pem"), dir.resolve("local.key")));
    otherName = backend("other-name", new TlsServer(dir.resolve("other.pem"), dir.resolve("other.key")));
    mutual = backend("mutual", new TlsServer(dir.resolve("local.pem"), dir.resolve("local.key"), ca));
  }

  private static TestBackend backend(String name, TlsServer tls) {
    TestBackend b = TestBackend.startTls(name, tls);
    started.add(b);
    return b;
  }

  @AfterAll
  static void stop() {
    started.forEach(TestBackend::close);
  }

  private static String localhost(TestBackend b) {
    return "https://localhost:" + b.port();
  }

  private static RawResponse get(Lb lb, String target) throws Exception {
    try (RawHttpClient c = RawHttpClient.connect(lb.port())) {
      return c.get(target).readResponse();
    }
  }

  /**
   * Waits for the backend to be in {@code /backends} (a member found in DNS joins after the first answer) and its
   * probes to have decided, and returns its entry then.
   */
  private static JsonNode awaitProbed(Lb lb, String url, boolean healthy) {
    return await().atMost(WAIT).pollInterval(Duration.ofMillis(50)).until(() -> entry(lb, url),
        n -> n.path("healthy").asBoolean() == healthy && n.path("last_check").isTextual());
  }

  private static JsonNode entry(Lb lb, String url) throws Exception {
    for (JsonNode n : lb.backendsJson()) {
      if (n.path("url").asText().equals(url)) {
        return n;
      }
    }
    return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }

  private static Lb.Builder probing() {
    return Lb.builder()
        .set("health_check.enabled", "true")
        .set("health_check.interval", "300ms")
        .set("health_check.timeout", "2s")
        .set("health_check.unhealthy_threshold", "1")
        .set("health_check.healthy_threshold", "1");
  }

  @Test
  void aBackendWithAPrivateCaWorksWithCaFileItsProbesPassAndItsConnectionsAreReused() throws Exception {
    String url = localhost(secure);
    try (Lb lb = probing().set("health_check.interval", "2s")
        .backendLine("{url: \"" + url + "\", tls: {ca_file: \"" + ca + "\"}}").start()) {
      JsonNode entry = awaitProbed(lb, url, true);
      assertThat(entry.path("url").asText()).isEqualTo(url);
      assertThat(entry.path("scheme").asText()).isEqualTo("https");
      assertThat(entry.path("tls").path("server_name").asText()).isEqualTo("localhost");
      assertThat(entry.path("tls").path("verify").asBoolean()).isTrue();
      assertThat(entry.path("last_check_result").asText()).isEqualTo("status 200");

      int sniBefore = secure.sniNames().size();
      long connectionsBefore = secure.connectionsAccepted();
      long requestsBefore = secure.requests();
      int n = 40;
      try (RawHttpClient client = RawHttpClient.connect(lb.port())) {
        for (int i = 0; i < n; i++) {
          RawResponse r = client.send("GET /headers HTTP/1.1\r\nHost: api.test\r\n\r\n").readResponse();
          assertThat(r.status()).as("%s", r).isEqualTo(200);
          JsonNode seen = json(r.bodyString());
          assertThat(seen.path("backend").asText()).isEqualTo("secure");
          // The request goes as it came, with the usual forwarding headers: TLS changes nothing of it.
          assertThat(seen.path("headers").path("host").get(0).asText()).isEqualTo("api.test");
          assertThat(seen.path("headers").path("x-forwarded-proto").get(0).asText()).isEqualTo("http");
          assertThat(seen.path("headers").path("x-forwarded-for").get(0).asText()).isEqualTo("127.0.0.1");
        }
      }
      assertThat(secure.requests() - requestsBefore).isGreaterThanOrEqualTo(n);
      // Keep-alive to the backend: far fewer TLS connections than requests (probes open a few of their own).
      assertThat(secure.connectionsAccepted() - connectionsBefore).isLessThan(n / 4);
      assertThat(secure.sniNames().subList(sniBefore, secure.sniNames().size())).containsOnly("localhost");
    }
  }

  @Test
  void withoutTheCaTheBackendIsRefusedWith502AndItsProbesFail() throws Exception {
    String url = localhost(secure);
    try (Lb lb = Lb.builder().set("proxy.max_retries", "0").backend(url).start()) {
      RawResponse r = get(lb, "/");
      assertJsonError(r, 502, "Bad gateway");
      JsonNode entry = lb.backendJson(url);
      assertThat(entry.path("last_error").asText()).startsWith("TLS handshake failed: ").containsIgnoringCase("cert");
    }
    try (Lb lb = probing().backend(url).start()) {
      JsonNode entry = awaitProbed(lb, url, false);
      assertThat(entry.path("state").asText()).isEqualTo("down");
      assertThat(entry.path("last_check_result").asText())
          .startsWith("TLS handshake failed: ").containsIgnoringCase("cert");
      assertThat(get(lb, "/").status()).isEqualTo(503);
    }
  }

  @Test
  void insecureSkipVerifyTakesAnyCertificate() throws Exception {
    String url = localhost(otherName);
    try (Lb lb = probing().backendLine("{url: \"" + url + "\", tls: {insecure_skip_verify: true}}").start()) {
      JsonNode entry = awaitProbed(lb, url, true);
      assertThat(entry.path("tls").path("verify").asBoolean()).isFalse();
      RawResponse r = get(lb, "/");
      assertThat(r.status()).as("%s", r).isEqualTo(200);
      assertThat(r.bodyString()).isEqualTo("other-name");
    }
  }

  @Test
  void aCertificateForAnotherNameIsRefusedUnlessServerNameIsThatName() throws Exception {
    String url = localhost(otherName);
    try (Lb lb = probing().set("proxy.max_retries", "0")
        .backendLine("{url: \"" + url + "\", tls: {ca_file: \"" + ca + "\"}}").start()) {
      JsonNode entry = awaitProbed(lb, url, false);
      assertThat(entry.path("last_check_result").asText())
          .startsWith("TLS handshake failed: ").containsIgnoringCase("localhost");
    }
    try (Lb lb = Lb.builder().set("proxy.max_retries", "0")
        .backendLine("{url: \"" + url + "\", tls: {ca_file: \"" + ca + "\"}}").start()) {
      assertJsonError(get(lb, "/"), 502, "Bad gateway");
      assertThat(lb.backendJson(url).path("last_error").asText())
          .startsWith("TLS handshake failed: ").containsIgnoringCase("localhost");
    }
    // The name sent as SNI and verified is server_name's, whatever the URL's host.
    String byAddress = "https://127.0.0.1:" + otherName.port();
    try (Lb lb = probing().backendLine("{url: \"" + byAddress + "\", tls: {ca_file: \"" + ca
        + "\", server_name: backend.example}}").start()) {
      awaitProbed(lb, byAddress, true);
      RawResponse r = get(lb, "/");
      assertThat(r.status()).as("%s", r).isEqualTo(200);
      assertThat(otherName.sniNames()).contains("backend.example");
    }
  }

  @Test
  void anIpAddressIsVerifiedAgainstTheCertificatesAddressesAndGetsNoSni() throws Exception {
    String url = "https://127.0.0.1:" + secure.port();
    int before = secure.sniNames().size();
    try (Lb lb = Lb.builder().backendLine("{url: \"" + url + "\", tls: {ca_file: \"" + ca + "\"}}").start()) {
      RawResponse r = get(lb, "/");
      assertThat(r.status()).as("%s", r).isEqualTo(200);
      assertThat(r.bodyString()).isEqualTo("secure");
    }
    assertThat(secure.sniNames().subList(before, secure.sniNames().size())).containsOnly("");
  }

  @Test
  void aClientCertificateIsPresentedToABackendThatRequiresOne() throws Exception {
    String url = localhost(mutual);
    try (Lb lb = probing().yaml("""
        upstreams:
          mtls:
            tls: { ca_file: "%s", client_cert_file: "%s", client_key_file: "%s" }
            backends: [ "%s" ]
        routes: [ { upstream: mtls } ]
        """.formatted(ca, clientCert, clientKey, url)).start()) {
      awaitProbed(lb, url, true);
      RawResponse r = get(lb, "/");
      assertThat(r.status()).as("%s", r).isEqualTo(200);
      assertThat(r.bodyString()).isEqualTo("mutual");
      assertThat(mutual.clientSubjects()).isNotEmpty().allSatisfy(s -> assertThat(s).isEqualTo("CN=lb-client"));
    }
    // Without one, the backend ends the handshake: 502, and a reason that names TLS.
    long failed = mutual.failedHandshakes();
    try (Lb lb = Lb.builder().set("proxy.max_retries", "0")
        .backendLine("{url: \"" + url + "\", tls: {ca_file: \"" + ca + "\"}}").start()) {
      assertJsonError(get(lb, "/"), 502, "Bad gateway");
      assertThat(lb.backendJson(url).path("last_error").asText()).startsWith("TLS ");
    }
    assertThat(mutual.failedHandshakes()).isGreaterThan(failed);
  }

  @Test
  void membersFoundInDnsAreReachedOverTlsAndVerifiedAgainstTheNameLookedUp(@TempDir Path dnsDir) throws Exception {
    String name = "pods." + Dnsmasq.DOMAIN;
    authority.issue(name).write(dnsDir.resolve("pod.pem"), dnsDir.resolve("pod.key"));
    TestBackend pod = backend("pod", new TlsServer(dnsDir.resolve("pod.pem"), dnsDir.resolve("pod.key")));
    try (Dnsmasq dns = Dnsmasq.start(dnsDir.resolve("dns"), Map.of(name, List.of("127.0.0.1")));
        Lb lb = probing().set("discovery.resolvers", "[\"127.0.0.1:" + dns.port() + "\"]").yaml("""
            upstreams:
              pods:
                tls: { ca_file: "%s" }
                backends: [ { dns: %s, port: %d } ]
            routes: [ { upstream: pods } ]
            """.formatted(ca, name, pod.port())).start()) {
      String url = "https://127.0.0.1:" + pod.port();
      JsonNode entry = awaitProbed(lb, url, true);
      assertThat(entry.path("tls").path("server_name").asText()).isEqualTo(name);
      RawResponse r = get(lb, "/");
      assertThat(r.status()).as("%s", r).isEqualTo(200);
      assertThat(r.bodyString()).isEqualTo("pod");
      assertThat(pod.sniNames()).isNotEmpty().containsOnly(name);
    }
  }
}
