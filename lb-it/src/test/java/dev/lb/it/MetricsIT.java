package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lb.it.support.Ports;
import dev.lb.it.support.PrometheusText;
import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.TestBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code /metrics} after known traffic: the contract's series with exact values, in the Prometheus text format. */
class MetricsIT {
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private TestBackend b1;
  private TestBackend b2;

  @TempDir Path dir;

  @AfterEach
  void stop() {
    if (b1 != null) {
      b1.close();
    }
    if (b2 != null) {
      b2.close();
    }
  }

  private String scrape(Lb lb) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + lb.adminPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
    return r.body();
  }

  private PrometheusText metrics(Lb lb) throws Exception {
    return PrometheusText.parse(scrape(lb));
  }

  private static String series(String name, String backend, String code) {
    // Every series of a configuration without named upstreams is the default upstream's, lb's own answers too.
    return name + "{backend=\"" + backend + "\",code=\"" + code + "\",upstream=\"default\"}";
  }

  @Test
  void countersMatchTheTrafficSent() throws Exception {
    b1 = TestBackend.start("b1");
    b2 = TestBackend.start("b2");
    String refused = "http://127.0.0.1:" + Ports.refusedPort();
    try (Lb lb = Lb.builder().backends(b1, b2).backend(refused)
        .set("rate_limit.enabled", "true")
        .set("rate_limit.client_key", "\"header:X-API-Key\"")
        .set("rate_limit.default", "{ capacity: 1000, rate_per_sec: 1 }")
        .set("rate_limit.clients", "[ { client_id: greedy, capacity: 2, rate_per_sec: 0.01 } ]")
        .set("store.url", "\"jdbc:h2:mem:metrics-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1\"")
        .start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      // Nine requests: round robin gives b1, b2, then the refused backend, whose connect fails and is retried.
      for (int i = 0; i < 9; i++) {
        client.send("GET / HTTP/1.1\r\nHost: m\r\n\r\n");
        assertThat(client.readResponse().status()).isEqualTo(200);
      }
      client.send("GET /status?code=404 HTTP/1.1\r\nHost: m\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(404);
      for (int i = 0; i < 5; i++) {
        client.send("GET / HTTP/1.1\r\nHost: m\r\nX-API-Key: greedy\r\n\r\n");
        client.readResponse();
      }
      try (RawHttpClient bad = RawHttpClient.connect(lb.port())) {
        bad.send("GET / HTTP/1.1\r\n\r\n");
        assertThat(bad.readResponse().status()).isEqualTo(400);
        assertThat(bad.isClosedByPeer(Duration.ofSeconds(5))).isTrue();
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> metrics(lb).value("lb_connections_active") == 1);

      PrometheusText m = metrics(lb);
      double toB1 = m.valueOrZero(series("lb_requests_total", b1.url(), "200"));
      double toB2 = m.valueOrZero(series("lb_requests_total", b2.url(), "200"));
      assertThat(toB1 + toB2).isEqualTo(9 + 2);
      assertThat(toB1).isEqualTo(b1.requests() - m.valueOrZero(series("lb_requests_total", b1.url(), "404")));
      assertThat(m.valueOrZero(series("lb_requests_total", b1.url(), "404"))
          + m.valueOrZero(series("lb_requests_total", b2.url(), "404"))).isEqualTo(1);
      assertThat(m.value(series("lb_requests_total", "none", "429"))).isEqualTo(3);
      assertThat(m.value(series("lb_requests_total", "none", "400"))).isEqualTo(1);
      assertThat(m.value("lb_ratelimit_rejected_total")).isEqualTo(3);
      assertThat(m.value("lb_retries_total{backend=\"" + refused + "\",upstream=\"default\"}"))
          .as("connect failures retried")
          .isGreaterThanOrEqualTo(3);
      assertThat(m.value("lb_retries_total{backend=\"" + b1.url() + "\",upstream=\"default\"}")).isZero();
      assertThat(m.value("lb_request_duration_seconds_count{backend=\"" + b1.url() + "\",upstream=\"default\"}"))
          .isEqualTo(
          toB1 + m.valueOrZero(series("lb_requests_total", b1.url(), "404")));
      assertThat(m.value(
          "lb_request_duration_seconds_bucket{backend=\"" + b1.url() + "\",upstream=\"default\",le=\"+Inf\"}"))
          .isEqualTo(m.value("lb_request_duration_seconds_count{backend=\"" + b1.url() + "\",upstream=\"default\"}"));
      assertThat(m.type("lb_request_duration_seconds")).isEqualTo("histogram");
      assertThat(m.type("lb_requests_total")).isEqualTo("counter");
      assertThat(m.value("lb_backend_active_requests{backend=\"" + b1.url() + "\",upstream=\"default\"}")).isZero();
      assertThat(m.value("lb_connections_active")).isEqualTo(1);
      assertThat(m.value("lb_connections_accepted_total")).isGreaterThanOrEqualTo(2);
      assertThat(m.samples().keySet()).anyMatch(k -> k.startsWith("jvm_memory_used_bytes"))
          .anyMatch(k -> k.startsWith("process_cpu_usage"))
          .anyMatch(k -> k.startsWith("netty_allocator_memory_used"))
          .anyMatch(k -> k.startsWith("netty_eventexecutor_tasks_pending"));
      assertThat(m.samples().keySet()).as("no client id becomes a label").noneMatch(k -> k.contains("greedy"));
    }
  }

  @Test
  void backendUpFollowsHealthOneZeroOne() throws Exception {
    b1 = TestBackend.start("b1");
    try (Lb lb = Lb.builder().backends(b1)
        .set("health_check.enabled", "true")
        .set("health_check.interval", "200ms")
        .set("health_check.timeout", "200ms")
        .set("health_check.unhealthy_threshold", "1")
        .set("health_check.healthy_threshold", "1")
        .start()) {
      String up = "lb_backend_up{backend=\"" + b1.url() + "\",upstream=\"default\"}";
      await().atMost(Duration.ofSeconds(5)).until(() -> metrics(lb).valueOrZero(
          "lb_health_checks_total{backend=\"" + b1.url() + "\",result=\"pass\",upstream=\"default\"}") > 0);
      assertThat(metrics(lb).value(up)).isEqualTo(1);
      b1.setHealthStatus(500);
      await().atMost(Duration.ofSeconds(5)).until(() -> metrics(lb).value(up) == 0);
      assertThat(metrics(lb).value(
          "lb_health_checks_total{backend=\"" + b1.url() + "\",result=\"fail\",upstream=\"default\"}"))
          .isGreaterThanOrEqualTo(1);
      b1.setHealthStatus(200);
      await().atMost(Duration.ofSeconds(5)).until(() -> metrics(lb).value(up) == 1);
    }
  }

  @Test
  void theScrapeParsesWithPrometheusOwnClientParserWhenAvailable() throws Exception {
    Path python = Path.of("/usr/bin/python3");
    b1 = TestBackend.start("b1");
    try (Lb lb = Lb.builder().backends(b1).start()) {
      get(lb);
      String text = scrape(lb);
      PrometheusText.parse(text);
      if (!Files.isExecutable(python)) {
        return;
      }
      Path file = Files.writeString(dir.resolve("scrape.txt"), text);
      Process p = new ProcessBuilder(python.toString(), "-c",
          "import sys\n"
              + "try:\n"
              + "  from prometheus_client.parser import text_string_to_metric_families\n"
              + "except ImportError:\n"
              + "  print('absent'); sys.exit(0)\n"
              + "n = sum(len(f.samples) for f in text_string_to_metric_families(open(sys.argv[1]).read()))\n"
              + "print(n)\n", file.toString())
          .redirectErrorStream(true).start();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      assertThat(p.exitValue()).as(out).isZero();
      if (!out.equals("absent")) {
        assertThat(Integer.parseInt(out)).isGreaterThan(50);
      }
    }
  }

  private void get(Lb lb) throws Exception {
    http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lb.port() + "/")).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
