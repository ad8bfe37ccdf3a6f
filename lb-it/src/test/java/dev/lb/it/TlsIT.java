package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lb.it.support.Ports;
import dev.lb.it.support.TestBackend;
import dev.lb.testing.TestCerts;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS at the listener over real sockets, with certificates made in the test: HTTP/1.1 and HTTP/2 by ALPN from
 * Java's client, curl and Python's {@code ssl}; certificates chosen by SNI; {@code X-Forwarded-Proto: https}; the
 * access log's TLS fields; certificate files rotated under load (plain files, and a Kubernetes-style symlink swap)
 * with no request failing; a broken file keeping the certificate in use.
 */
class TlsIT {
  @TempDir Path dir;
  private TestCerts.Ca ca;
  private Path caFile;

  @BeforeEach
  void certificates() {
    ca = TestCerts.newCa("lb test CA");
    caFile = ca.writeCertificate(dir.resolve("ca.pem"));
  }

  private Path[] issue(String prefix, TestCerts.KeyType type, TestCerts.KeyFormat format, String... names) {
    Path cert = dir.resolve(prefix + "-cert.pem");
    Path key = dir.resolve(prefix + "-key.pem");
    ca.issue(type, names).write(cert, key, format);
    return new Path[] {cert, key};
  }

  private static String tls(Path[] files, String more) {
    return "{ cert_file: \"" + files[0] + "\", key_file: \"" + files[1] + "\"" + more + " }";
  }

  @Test
  void servesHttp11AndHttp2ByAlpnAndTellsTheBackendItWasHttps() throws Exception {
    Path[] files = issue("rsa", TestCerts.KeyType.RSA, TestCerts.KeyFormat.TRADITIONAL, "localhost", "127.0.0.1");
    try (TestBackend backend = TestBackend.start("b1");
        Lb lb = Lb.builder().backends(backend).set("listen.tls", tls(files, "")).start()) {
      for (HttpClient.Version v : List.of(HttpClient.Version.HTTP_1_1, HttpClient.Version.HTTP_2)) {
        HttpResponse<String> r = TlsClients.http(ca, v).send(HttpRequest.newBuilder(
            URI.create("https://localhost:" + lb.port() + "/hello")).timeout(Duration.ofSeconds(20)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.version()).isEqualTo(v);
        assertThat(r.body()).isEqualTo("b1");
        assertThat(backend.lastRequestHeaders().get("X-Forwarded-Proto")).isEqualTo("https");
        assertThat(backend.lastRequestHeaders().get("Host")).isEqualTo("localhost:" + lb.port());
      }
      TlsClients.Handshake h = TlsClients.handshake(lb.port(), "localhost", "h2", "http/1.1");
      assertThat(h.alpn()).isEqualTo("h2");
      assertThat(h.protocol()).isIn("TLSv1.3", "TLSv1.2");
      assertThat(TlsClients.handshake(lb.port(), "localhost", "http/1.1").alpn()).isEqualTo("http/1.1");
      // No ALPN at all: HTTP/1.1.
      assertThat(TlsClients.getOnNewConnection(TlsClients.trusting(ca), lb.port(), "localhost")).isEqualTo(200);
    }
  }

  @Test
  void picksTheCertificateByServerNameWithWildcardsAndDefaultsToTheFirst() throws Exception {
    Path[] first = issue("first", TestCerts.KeyType.EC, TestCerts.KeyFormat.PKCS8, "localhost", "a.lb.test");
    Path[] wild = issue("wild", TestCerts.KeyType.EC, TestCerts.KeyFormat.TRADITIONAL, "*.b.lb.test");
    Path[] other = issue("other", TestCerts.KeyType.RSA, TestCerts.KeyFormat.PKCS8, "c.lb.test");
    String more = ", certificates: [ { cert_file: \"" + wild[0] + "\", key_file: \"" + wild[1] + "\" },"
        + " { cert_file: \"" + other[0] + "\", key_file: \"" + other[1] + "\" } ]";
    try (TestBackend backend = TestBackend.start("b1");
        Lb lb = Lb.builder().backends(backend).set("listen.tls", tls(first, more)).start()) {
      assertThat(TlsClients.handshake(lb.port(), "a.lb.test").names()).containsExactly("localhost", "a.lb.test");
      assertThat(TlsClients.handshake(lb.port(), "x.b.lb.test").names()).containsExactly("*.b.lb.test");
      assertThat(TlsClients.handshake(lb.port(), "X.B.LB.TEST").names()).containsExactly("*.b.lb.test");
      assertThat(TlsClients.handshake(lb.port(), "c.lb.test").names()).containsExactly("c.lb.test");
      // One label deep only, an unknown name, and no name at all: the first certificate.
      assertThat(TlsClients.handshake(lb.port(), "y.x.b.lb.test").names()).contains("a.lb.test");
      assertThat(TlsClients.handshake(lb.port(), "unknown.lb.test").names()).contains("a.lb.test");
      assertThat(TlsClients.handshake(lb.port(), null).names()).contains("a.lb.test");

      assumeTrue(TlsClients.installed("curl"), "curl is not installed");
      for (String host : List.of("a.lb.test", "x.b.lb.test", "c.lb.test")) {
        for (String version : List.of("--http1.1", "--http2")) {
          TlsClients.Run curl = TlsClients.run(dir, "curl", "-sS", version, "--cacert", caFile.toString(),
              "--resolve", host + ":" + lb.port() + ":127.0.0.1", "-o", "/dev/null",
              "-w", "%{http_code} %{http_version}", "https://" + host + ":" + lb.port() + "/");
          assertThat(curl.out()).as("curl %s %s", version, host)
              .isEqualTo("200 " + (version.equals("--http2") ? "2" : "1.1"));
        }
      }
    }
  }

  @Test
  void pythonSslClientsGetThroughWithVerification() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "/usr/bin/python3 is not installed");
    Path[] files = issue("ec", TestCerts.KeyType.EC, TestCerts.KeyFormat.PKCS8, "localhost");
    Path script = Files.writeString(dir.resolve("client.py"), String.join("\n",
        "import socket, ssl, sys",
        "ctx = ssl.create_default_context(cafile=sys.argv[1])",
        "ctx.set_alpn_protocols(['http/1.1'])",
        "with socket.create_connection(('127.0.0.1', int(sys.argv[2])), timeout=20) as raw:",
        "    with ctx.wrap_socket(raw, server_hostname='localhost') as s:",
        "        s.sendall(b'GET /py HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n')",
        "        data = b''",
        "        while True:",
        "            chunk = s.recv(65536)",
        "            if not chunk: break",
        "            data += chunk",
        "        print(s.version(), s.selected_alpn_protocol(), data.split(b'\\r\\n')[0].decode())",
        ""));
    try (TestBackend backend = TestBackend.start("b1");
        Lb lb = Lb.builder().backends(backend).set("listen.tls", tls(files, ", min_version: TLSv1.3")).start()) {
      TlsClients.Run py = TlsClients.run(dir, "/usr/bin/python3", script.toString(), caFile.toString(),
          Integer.toString(lb.port()));
      assertThat(py.exit()).as(py.out()).isZero();
      assertThat(py.out().trim()).isEqualTo("TLSv1.3 http/1.1 HTTP/1.1 200 OK");
    }
  }

  @Test
  void accessLogCarriesTlsVersionCipherAndServerName() throws Exception {
    Path[] files = issue("log", TestCerts.KeyType.EC, TestCerts.KeyFormat.PKCS8, "localhost");
    int port = Ports.freePort();
    int adminPort = Ports.freePort();
    Path config = Files.writeString(dir.resolve("lb.yaml"),
        "listen: { host: 127.0.0.1, port: " + port + ", workers: 1, tls: " + tls(files, "") + " }\n"
            + "admin: { host: 127.0.0.1, port: " + adminPort + " }\n"
            + "health_check: { enabled: false }\n"
            + "logging: { access_log: true }\n");
    try (TestBackend backend = TestBackend.start("b1")) {
      Files.writeString(config, Files.readString(config) + "backends: [ \"" + backend.url() + "\" ]\n");
      try (JarProcess lb = JarProcess.start(dir, "serve", "-c", config.toString())) {
        JarIT.awaitStatus(lb, adminPort, "/readyz", 200);
        assertThat(lb.stdout()).contains("listening on 127.0.0.1:" + port + " (TLS TLSv1.3, TLSv1.2 by ")
            .contains("ALPN h2,http/1.1, certificates localhost until ");
        HttpClient http = TlsClients.http(ca, HttpClient.Version.HTTP_2);
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/logged"))
            .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        await("the access line").atMost(Duration.ofSeconds(30)).until(() -> lb.stdout().contains("GET /logged"));
        String line = lb.stdout().lines().filter(l -> l.contains("GET /logged")).findFirst().orElseThrow();
        assertThat(line).contains("\"GET /logged HTTP/2.0\" 200").containsPattern(" tls=TLSv1\\.[23] cipher=TLS_\\S+ sni=localhost");
      }
    }
  }

  @Test
  void rotatedCertificateFilesAreReadWithoutAFailedRequestAndABrokenOneKeepsTheOld() throws Exception {
    // A Kubernetes Secret volume: tls.crt -> ..data/tls.crt, ..data -> ..v1; an update swaps ..data to ..v2.
    Path secret = Files.createDirectory(dir.resolve("secret"));
    Path v1 = Files.createDirectory(secret.resolve("..v1"));
    ca.issue(TestCerts.KeyType.EC, "localhost").write(v1.resolve("tls.crt"), v1.resolve("tls.key"));
    Files.createSymbolicLink(secret.resolve("..data"), Path.of("..v1"));
    Files.createSymbolicLink(secret.resolve("tls.crt"), Path.of("..data/tls.crt"));
    Files.createSymbolicLink(secret.resolve("tls.key"), Path.of("..data/tls.key"));
    Path[] files = {secret.resolve("tls.crt"), secret.resolve("tls.key")};
    SSLContext trust = TlsClients.trusting(ca);
    try (TestBackend backend = TestBackend.start("b1");
        Lb lb = Lb.builder().workers(2).backends(backend)
            .set("listen.tls", tls(files, ", watch_interval: 200ms")).start()) {
      BigInteger first = TlsClients.handshake(lb.port(), "localhost").leaf().getSerialNumber();
      List<String> failures = new CopyOnWriteArrayList<>();
      AtomicLong served = new AtomicLong();
      AtomicBoolean running = new AtomicBoolean(true);
      ExecutorService load = Executors.newFixedThreadPool(3);
      HttpClient h2 = TlsClients.http(ca, HttpClient.Version.HTTP_2);
      HttpClient h1 = TlsClients.http(ca, HttpClient.Version.HTTP_1_1);
      for (int t = 0; t < 3; t++) {
        int kind = t;
        load.submit(() -> {
          while (running.get()) {
            try {
              int status = kind == 0 ? TlsClients.getOnNewConnection(trust, lb.port(), "localhost")
                  : (kind == 1 ? h2 : h1).send(HttpRequest.newBuilder(URI.create("https://localhost:" + lb.port()
                      + "/")).timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString())
                      .statusCode();
              if (status != 200) {
                failures.add("status " + status);
              }
              served.incrementAndGet();
            } catch (Exception e) {
              failures.add(e.toString());
            }
          }
        });
      }
      try {
        await().atMost(Duration.ofSeconds(30)).until(() -> served.get() > 50);
        // The symlink swap.
        Path v2 = Files.createDirectory(secret.resolve("..v2"));
        ca.issue(TestCerts.KeyType.RSA, "localhost").write(v2.resolve("tls.crt"), v2.resolve("tls.key"));
        Path next = secret.resolve("..data_tmp");
        Files.createSymbolicLink(next, Path.of("..v2"));
        Files.move(next, secret.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        BigInteger second = awaitNewSerial(lb.port(), first);
        long before = served.get();
        await().atMost(Duration.ofSeconds(30)).until(() -> served.get() > before + 50);

        // A broken certificate file: the one in use stays, and it says why.
        Path v3 = Files.createDirectory(secret.resolve("..v3"));
        Files.writeString(v3.resolve("tls.crt"), "not a certificate\n");
        Files.copy(v2.resolve("tls.key"), v3.resolve("tls.key"));
        Files.createSymbolicLink(next, Path.of("..v3"));
        Files.move(next, secret.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        await("the failed re-read is counted").atMost(Duration.ofSeconds(30)).until(() ->
            metric(lb, "lb_tls_certificate_reloads_total{result=\"failure\"}") >= 1);
        assertThat(TlsClients.handshake(lb.port(), "localhost").leaf().getSerialNumber()).isEqualTo(second);
        long after = served.get();
        await().atMost(Duration.ofSeconds(30)).until(() -> served.get() > after + 50);
      } finally {
        running.set(false);
        load.shutdown();
        assertThat(load.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      }
      assertThat(failures).as("requests that failed during the rotations").isEmpty();
      assertThat(metric(lb, "lb_tls_certificate_reloads_total{result=\"success\"}")).isGreaterThanOrEqualTo(1);
      System.out.printf("certificate rotation: %d requests, none failed%n", served.get());
    }
  }

  @Test
  void reloadReadsTheCertificateFilesAgainEvenWhenTheConfigurationDidNotChange() throws Exception {
    Path[] files = issue("reload", TestCerts.KeyType.EC, TestCerts.KeyFormat.PKCS8, "localhost");
    try (TestBackend backend = TestBackend.start("b1")) {
      Path config = Files.writeString(dir.resolve("reload.yaml"),
          "listen: { host: 127.0.0.1, port: 0, workers: 1, tls: " + tls(files, ", watch_interval: 0s") + " }\n"
              + "admin: { host: 127.0.0.1, port: 0 }\n"
              + "health_check: { enabled: false }\n"
              + "backends: [ \"" + backend.url() + "\" ]\n");
      try (Lb lb = Lb.of(dev.lb.config.ConfigLoader.load(config), config)) {
        BigInteger first = TlsClients.handshake(lb.port(), "localhost").leaf().getSerialNumber();
        ca.issue(TestCerts.KeyType.EC, "localhost").write(files[0], files[1]);
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + lb.adminPort() + "/reload")).POST(HttpRequest.BodyPublishers.noBody())
            .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(TlsClients.handshake(lb.port(), "localhost").leaf().getSerialNumber()).isNotEqualTo(first);
      }
    }
  }

  private static BigInteger awaitNewSerial(int port, BigInteger old) {
    BigInteger[] seen = new BigInteger[1];
    await("a new connection gets the new certificate").atMost(Duration.ofSeconds(30)).until(() -> {
      seen[0] = TlsClients.handshake(port, "localhost").leaf().getSerialNumber();
      return !seen[0].equals(old);
    });
    return seen[0];
  }

  private static double metric(Lb lb, String series) throws Exception {
    String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + lb.adminPort() + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    for (String line : body.lines().toList()) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).trim());
      }
    }
    return 0;
  }
}
