package dev.lb.it;

import static dev.lb.it.DirectMemory.mib;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lb.it.support.PseudoRandomBytes;
import dev.lb.it.support.TestBackend;
import dev.lb.testing.TestCerts;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/2 from clients over real sockets: over TLS by ALPN (Java's client, h2load) and with prior knowledge on a plain
 * listener (curl, h2load). Each stream is one request through lb's request path: balancing, the rate limiter (a token
 * per request), lb's JSON errors as stream responses, bodies both ways with flow control as backpressure.
 */
class Http2IT {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;
  private TestCerts.Ca ca;
  private String tls;
  private TestBackend b1;
  private TestBackend b2;

  @BeforeEach
  void setUp() {
    ca = TestCerts.newCa("h2 CA");
    Path cert = dir.resolve("cert.pem");
    Path key = dir.resolve("key.pem");
    ca.issue("localhost", "127.0.0.1").write(cert, key);
    tls = "{ cert_file: \"" + cert + "\", key_file: \"" + key + "\" }";
    b1 = TestBackend.start("b1");
    b2 = TestBackend.start("b2");
  }

  @AfterEach
  void tearDown() {
    b1.close();
    b2.close();
  }

  private HttpResponse<String> get(HttpClient http, String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void manyStreamsOnOneConnectionAreBalancedAndBodiesGoBothWaysWhole() throws Exception {
    try (Lb lb = Lb.builder().workers(2).backends(b1, b2).set("listen.tls", tls).start()) {
      HttpClient http = TlsClients.http(ca, HttpClient.Version.HTTP_2);
      String base = "https://localhost:" + lb.port();
      List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        all.add(http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/slow?ms=50")).timeout(Duration.ofSeconds(60))
            .build(), HttpResponse.BodyHandlers.ofString()));
      }
      int fromB1 = 0;
      for (CompletableFuture<HttpResponse<String>> f : all) {
        HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
        fromB1 += r.body().equals("b1") ? 1 : 0;
      }
      assertThat(fromB1).as("round robin over two backends").isBetween(20, 40);

      long n = 6L << 20;
      HttpResponse<byte[]> download = http.send(HttpRequest.newBuilder(URI.create(base + "/bytes?n=" + n + "&seed=7"))
          .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofByteArray());
      assertThat(download.statusCode()).isEqualTo(200);
      assertThat(download.body()).hasSize((int) n);
      assertThat(sha256(download.body())).isEqualTo(TestBackend.expectedSha256(n, 7));

      HttpResponse<String> chunked = http.send(HttpRequest.newBuilder(
          URI.create(base + "/bytes?n=300000&chunked=true&seed=3")).timeout(Duration.ofSeconds(60)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(chunked.statusCode()).isEqualTo(200);
      assertThat(chunked.headers().firstValue("transfer-encoding")).isEmpty();

      HttpResponse<String> upload = http.send(HttpRequest.newBuilder(URI.create(base + "/sha256"))
          .POST(HttpRequest.BodyPublishers.ofInputStream(() -> bytes(n, 11)))
          .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(upload.statusCode()).as(upload.body()).isEqualTo(200);
      JsonNode digest = JSON.readTree(upload.body());
      assertThat(digest.path("bytes").asLong()).isEqualTo(n);
      assertThat(digest.path("sha256").asText()).isEqualTo(TestBackend.expectedSha256(n, 11));
      assertThat(b1.lastRequestHeaders().get("X-Forwarded-Proto")).isIn("https", null);
    }
  }

  @Test
  void eachStreamTakesATokenAndLbsOwnAnswersAreStreamResponses() throws Exception {
    try (Lb lb = Lb.builder().set("listen.tls", tls)
        .set("rate_limit.enabled", "true").set("rate_limit.default", "{ capacity: 5, rate_per_sec: 0.1 }")
        .set("store.url", "\"jdbc:h2:mem:h2it-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1\"")
        .yaml("upstreams:\n  app: { backends: [ \"" + b1.url() + "\" ] }\n"
            + "routes:\n  - { path_prefix: /app/, upstream: app }\n").start()) {
      HttpClient http = TlsClients.http(ca, HttpClient.Version.HTTP_2);
      String base = "https://localhost:" + lb.port();
      HttpResponse<String> noRoute = get(http, base + "/elsewhere");
      assertThat(noRoute.statusCode()).isEqualTo(404);
      assertThat(noRoute.version()).isEqualTo(HttpClient.Version.HTTP_2);
      assertThat(JSON.readTree(noRoute.body()).path("code").asInt()).isEqualTo(404);
      int ok = 0;
      int limited = 0;
      for (int i = 0; i < 12; i++) {
        HttpResponse<String> r = get(http, base + "/app/x");
        if (r.statusCode() == 200) {
          ok++;
        } else {
          assertThat(r.statusCode()).isEqualTo(429);
          assertThat(JSON.readTree(r.body()).path("message").asText()).isEqualTo("Rate limit exceeded");
          assertThat(r.headers().firstValue("retry-after")).isPresent();
          assertThat(r.headers().firstValue("ratelimit-limit")).hasValue("5");
          limited++;
        }
      }
      // The 404 above took a token too (it was counted before routing): 4 or 5 get through.
      assertThat(ok).isBetween(4, 5);
      assertThat(limited).isEqualTo(12 - ok);
    }
  }

  @Test
  void aBackendThatDoesNotReadStallsAnUploadStreamWithinItsWindows() throws Exception {
    // Uploads go to b1, which stops reading; everything else to b2.
    try (Lb lb = Lb.builder().backends(b2).set("listen.tls", tls)
        .yaml("upstreams:\n  uploads: { backends: [ \"" + b1.url() + "\" ] }\n"
            + "routes:\n  - { path_prefix: /sha256, upstream: uploads }\n").start()) {
      HttpClient http = TlsClients.http(ca, HttpClient.Version.HTTP_2);
      String base = "https://localhost:" + lb.port();
      assertThat(get(http, base + "/").statusCode()).isEqualTo(200);
      long size = 64L << 20;
      long baseline = DirectMemory.used();
      b1.pauseReading();
      AtomicLong sent = new AtomicLong();
      CompletableFuture<HttpResponse<String>> upload = http.sendAsync(HttpRequest.newBuilder(URI.create(base
          + "/sha256")).POST(HttpRequest.BodyPublishers.ofInputStream(() -> counting(bytes(size,
              5), sent))).timeout(Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofString());
      long peak;
      try (DirectMemory sampler = DirectMemory.sample()) {
        StreamingIT.awaitStalled(sent, Duration.ofSeconds(60), Duration.ofMillis(700));
        sampler.close();
        peak = sampler.peak();
      }
      System.out.printf("h2 upload to a paused backend stalled at %s; direct memory baseline %s, peak %s%n",
          mib(sent.get()), mib(baseline), mib(peak));
      assertThat(upload).isNotDone();
      assertThat(sent.get()).isLessThan(size / 2);
      assertThat(peak - baseline).isLessThan(16L << 20);
      // Other streams of the same connection still get through while that one waits.
      HttpResponse<String> other = get(http, base + "/");
      assertThat(other.statusCode()).isEqualTo(200);
      assertThat(other.body()).isEqualTo("b2");
      b1.resumeReading();
      HttpResponse<String> done = upload.get(120, TimeUnit.SECONDS);
      assertThat(done.statusCode()).isEqualTo(200);
      assertThat(JSON.readTree(done.body()).path("sha256").asText()).isEqualTo(TestBackend.expectedSha256(size, 5));
    }
  }

  @Test
  void priorKnowledgeOnAPlainListenerAndHttp11BesideIt() throws Exception {
    try (Lb lb = Lb.builder().backends(b1).set("listen.h2c", "true").start()) {
      assertThat(get(HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build(),
          "http://127.0.0.1:" + lb.port() + "/").body()).isEqualTo("b1");
      assumeTrue(TlsClients.installed("curl"), "curl is not installed");
      TlsClients.Run curl = TlsClients.run(dir, "curl", "-sS", "--http2-prior-knowledge", "-w", " %{http_version}",
          "http://127.0.0.1:" + lb.port() + "/");
      assertThat(curl.out()).isEqualTo("b1 2");
      assertThat(b1.lastRequestHeaders().get("X-Forwarded-Proto")).isEqualTo("http");
    }
  }

  @Test
  void h2loadOverTlsAndPriorKnowledgeGetsOnly2xx() throws Exception {
    assumeTrue(TlsClients.installed("h2load"), "h2load (nghttp2-client) is not installed");
    try (Lb lb = Lb.builder().workers(2).backends(b1, b2).set("listen.tls", tls).start();
        Lb plain = Lb.builder().workers(2).backends(b1, b2).set("listen.h2c", "true").start()) {
      for (String url : List.of("https://127.0.0.1:" + lb.port() + "/", "http://127.0.0.1:" + plain.port() + "/")) {
        TlsClients.Run run = TlsClients.run(dir, "h2load", "-n", "3000", "-c", "10", "-m", "10", url);
        assertThat(run.exit()).as(run.out()).isZero();
        assertThat(run.out()).as(run.out()).contains("3000 succeeded, 0 failed, 0 errored")
            .contains("status codes: 3000 2xx");
        if (url.startsWith("https")) {
          assertThat(run.out()).contains("Application protocol: h2");
        }
      }
    }
  }

  /** The first {@code n} bytes of {@link PseudoRandomBytes}({@code seed}). */
  private static InputStream bytes(long n, long seed) {
    PseudoRandomBytes source = new PseudoRandomBytes(seed);
    return new InputStream() {
      private long left = n;

      @Override
      public int read() {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (left == 0) {
          return -1;
        }
        int k = (int) Math.min(len, left);
        source.nextBytes(b, off, k);
        left -= k;
        return k;
      }
    };
  }

  private static InputStream counting(InputStream in, AtomicLong count) {
    return new java.io.FilterInputStream(in) {
      @Override
      public int read(byte[] b, int off, int len) throws java.io.IOException {
        int n = super.read(b, off, len);
        if (n > 0) {
          count.addAndGet(n);
        }
        return n;
      }
    };
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
