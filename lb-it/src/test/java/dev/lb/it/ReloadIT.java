package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lb.it.support.Ports;
import dev.lb.it.support.PrometheusText;
import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.TestBackend;
import dev.lb.it.support.TestBackends;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Configuration reloads: SIGHUP to the jar under steady load, and rate limits changed in place. */
class ReloadIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  @AutoClose private final TestBackends backends = new TestBackends();

  @TempDir Path dir;



  /**
   * A configuration for reload tests: both listeners on loopback, health checks and the access log off, {@code extra}
   * sections, then the backends.
   */
  static String yaml(int port, int adminPort, String extra, TestBackend... list) {
    StringBuilder y = new StringBuilder()
        .append("listen: { host: 127.0.0.1, port: ").append(port).append(", workers: 2 }\n")
        .append("admin: { host: 127.0.0.1, port: ").append(adminPort).append(" }\n")
        .append("health_check: { enabled: false }\n")
        .append("logging: { access_log: false }\n")
        .append(extra)
        .append("backends:\n");
    for (TestBackend b : list) {
      y.append("  - ").append(b.url()).append('\n');
    }
    return y.toString();
  }

  private JsonNode backendsOf(int adminPort) throws Exception {
    return JSON.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/backends"))
        .build(), HttpResponse.BodyHandlers.ofString()).body());
  }

  private PrometheusText metrics(int adminPort) throws Exception {
    return PrometheusText.parse(http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + adminPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body());
  }

  @Test
  void aSighupSwapsTheBackendsUnderLoadWithoutAFailedRequest() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/bin/kill")), "/bin/kill to send SIGHUP");
    JarProcess.assumeSignalReachesTheJar("HUP");
    TestBackend b1 = backends.start("b1");
    TestBackend b2 = backends.start("b2");
    TestBackend b3 = backends.start("b3");
    int port = Ports.freePort();
    int adminPort = Ports.freePort();
    Path config = Files.writeString(dir.resolve("lb.yaml"), yaml(port, adminPort, "", b1, b2));
    try (JarProcess lb = JarProcess.start(dir, "serve", "-c", config.toString())) {
      JarIT.awaitStatus(lb, adminPort, "/readyz", 200);
      List<String> failures = new CopyOnWriteArrayList<>();
      Map<String, AtomicLong> servedBy = new ConcurrentHashMap<>();
      AtomicBoolean running = new AtomicBoolean(true);
      ExecutorService load = Executors.newFixedThreadPool(4);
      for (int t = 0; t < 4; t++) {
        load.submit(() -> {
          try (RawHttpClient client = RawHttpClient.connect(port)) {
            while (running.get()) {
              client.send("GET / HTTP/1.1\r\nHost: reload\r\n\r\n");
              var r = client.readResponse();
              if (r.status() != 200) {
                failures.add(r.status() + " " + r.bodyString());
              } else {
                servedBy.computeIfAbsent(r.bodyString(), k -> new AtomicLong()).incrementAndGet();
              }
            }
          } catch (Exception e) {
            failures.add(e.toString());
          }
          return null;
        });
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> servedBy.size() == 2);

      Files.writeString(config, yaml(port, adminPort, "", b2, b3));
      lb.signal("HUP");
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        JsonNode list = backendsOf(adminPort);
        return list.size() == 2 && list.get(0).path("url").asText().equals(b2.url())
            && list.get(1).path("url").asText().equals(b3.url());
      });
      long b1AtReload = b1.requests();
      long b3AtReload = b3.requests();
      Thread.sleep(1_000);
      assertThat(b1.requests()).as("the removed backend gets nothing after the reload").isLessThanOrEqualTo(
          b1AtReload + 4);
      long b1Settled = b1.requests();
      Thread.sleep(500);
      assertThat(b1.requests()).isEqualTo(b1Settled);
      assertThat(b3.requests()).as("the new backend takes traffic").isGreaterThan(b3AtReload + 50);

      Files.writeString(config, "listen: { port: \"not a port\" }\nbackends: []\n");
      lb.signal("HUP");
      await().atMost(Duration.ofSeconds(30)).until(() -> lb.stdout().contains("refused"));
      long b3Before = b3.requests();
      await().atMost(Duration.ofSeconds(5)).until(() -> b3.requests() > b3Before + 50);

      running.set(false);
      load.shutdown();
      assertThat(load.awaitTermination(15, TimeUnit.SECONDS)).isTrue();
      assertThat(failures).as("failed requests").isEmpty();
      assertThat(lb.stdout()).contains("reload of").contains("1 change(s): backends:")
          .contains("listen.port: not a port (expected: an integer from 0 to 65535)")
          .contains("backends: [] (expected: a list of at least one backend)");
      PrometheusText m = metrics(adminPort);
      assertThat(m.value("lb_reloads_total{result=\"success\"}")).isEqualTo(1);
      assertThat(m.value("lb_reloads_total{result=\"failure\"}")).isEqualTo(1);
      assertThat(m.samples().keySet()).as("the removed backend's series are gone")
          .noneMatch(k -> k.contains(b1.url()));
      lb.terminate();
      assertThat(lb.waitFor(Duration.ofSeconds(30))).isZero();
      lb.assertNoLeaks();
      System.out.printf("reload: %s served by backend under load, none failed%n", servedBy);
    }
  }

  @Test
  void aReloadChangesLimitsButLeavesTheBucketsOfUnchangedClients() throws Exception {
    TestBackend b1 = backends.start("b1");
    int port = Ports.freePort();
    int adminPort = Ports.freePort();
    String limits = "rate_limit:\n  enabled: true\n  client_key: \"header:X-API-Key\"\n"
        + "  default: { capacity: 5, rate_per_sec: 0.01 }\n"
        + "  clients: [ { client_id: steady, capacity: 3, rate_per_sec: 0.01 } ]\n"
        + "store: { url: \"jdbc:h2:mem:reload-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1\" }\n";
    Path config = Files.writeString(dir.resolve("limits.yaml"), yaml(port, adminPort, limits, b1));
    try (Lb lb = Lb.of(dev.lb.config.ConfigLoader.load(config));
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      for (int i = 0; i < 2; i++) {
        client.send("GET / HTTP/1.1\r\nHost: r\r\nX-API-Key: steady\r\n\r\n");
        client.readResponse();
        client.send("GET / HTTP/1.1\r\nHost: r\r\nX-API-Key: other\r\n\r\n");
        client.readResponse();
      }
      Files.writeString(config, yaml(port, adminPort, limits.replace("capacity: 5", "capacity: 50"), b1));
      assertThat(lb.server().reload(config).applied()).isTrue();

      client.send("GET / HTTP/1.1\r\nHost: r\r\nX-API-Key: steady\r\n\r\n");
      var steady = client.readResponse();
      assertThat(steady.header("RateLimit-Limit")).isEqualTo("3");
      assertThat(steady.header("RateLimit-Remaining")).as("its bucket was not reset").isEqualTo("0");
      client.send("GET / HTTP/1.1\r\nHost: r\r\nX-API-Key: other\r\n\r\n");
      var other = client.readResponse();
      assertThat(other.header("RateLimit-Limit")).isEqualTo("50");
      assertThat(other.header("RateLimit-Remaining")).as("its tokens were kept (5 - 3)").isEqualTo("2");
    }
  }
}
