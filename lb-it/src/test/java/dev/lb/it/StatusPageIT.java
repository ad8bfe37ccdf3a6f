package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lb.it.support.TestBackend;
import dev.lb.it.support.TestBackends;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.UUID;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /status} over real sockets: the figures of the JSON grow with real traffic and failures, the CSV has a
 * row per backend, the HTML page loads nothing from elsewhere, and the rate limiter's refusals show with their
 * clients.
 */
class StatusPageIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  @AutoClose private final TestBackends backends = new TestBackends();



  private HttpResponse<String> admin(Lb lb, String pathAndQuery, String... headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lb.adminPort() + pathAndQuery))
        .timeout(Duration.ofSeconds(20));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode status(Lb lb) throws Exception {
    HttpResponse<String> r = admin(lb, "/status?format=json");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
    return JSON.readTree(r.body());
  }

  private static JsonNode backendNode(JsonNode status, String url) {
    for (JsonNode b : status.path("backends")) {
      if (b.path("url").asText().equals(url)) {
        return b;
      }
    }
    throw new AssertionError(url + " not on the status page: " + status);
  }

  @Test
  void figuresGrowWithTrafficAndABackendThatStopsShowsDownWithItsErrors() throws Exception {
    TestBackend b1 = backends.start("b1");
    TestBackend b2 = backends.start("b2");
    try (Lb lb = Lb.builder().workers(2).backendLine("{url: \"" + b1.url() + "\", name: web-1}").backend(b2.url())
        .set("health_check.enabled", "true")
        .set("health_check.interval", "300ms")
        .set("health_check.timeout", "1s")
        .set("health_check.unhealthy_threshold", "2")
        .start()) {
      try (Traffic traffic = new Traffic(http, lb.port(), 3)) {
        await().atMost(Duration.ofSeconds(30)).until(() -> traffic.requests.get() >= 200);
        // The status page sees the rate on its next one-second sample.
        await().atMost(Duration.ofSeconds(30)).until(() -> status(lb).path("lb").path("requests")
            .path("per_second").asDouble() > 0);
        JsonNode first = status(lb);
        JsonNode lbNode = first.path("lb");
        assertThat(lbNode.path("workers").asInt()).isEqualTo(2);
        assertThat(lbNode.path("config_generation").asLong()).isEqualTo(1);
        assertThat(lbNode.path("connections").path("accepted").asLong()).isPositive();
        assertThat(lbNode.path("requests").path("peak_per_second").asDouble())
            .isGreaterThanOrEqualTo(lbNode.path("requests").path("per_second").asDouble());
        assertThat(lbNode.path("rate_limit").path("enabled").asBoolean()).isFalse();

        JsonNode web1 = backendNode(first, b1.url());
        assertThat(web1.path("name").asText()).isEqualTo("web-1");
        assertThat(web1.path("state").asText()).isEqualTo("UP");
        assertThat(web1.path("requests").asLong()).isPositive();
        assertThat(web1.path("responses").path("2xx").asLong()).isPositive();
        assertThat(web1.path("bytes_out").asLong()).as("the test backend answers with its name").isPositive();
        assertThat(web1.path("latency_ms").path("count").asLong()).isPositive();
        assertThat(web1.path("latency_ms").path("p50").asDouble()).isPositive();
        assertThat(web1.path("latency_ms").path("p99").asDouble())
            .isGreaterThanOrEqualTo(web1.path("latency_ms").path("p50").asDouble());
        assertThat(web1.path("last_check").path("result").asText()).isEqualTo("status 200");
        assertThat(web1.path("last_check").path("duration_ms").asDouble()).isPositive();
        assertThat(web1.path("last_selected_seconds_ago").isNumber()).isTrue();
        assertThat(web1.path("connections").path("idle").isInt()).isTrue();

        long b2Requests = backendNode(first, b2.url()).path("requests").asLong();
        await().atMost(Duration.ofSeconds(30)).until(
            () -> backendNode(status(lb), b2.url()).path("requests").asLong() > b2Requests);
      }

      // No traffic from here: the stopped backend is charged by the probes only, then by a request.
      b2.stop();
      await().atMost(Duration.ofSeconds(30)).until(() -> backendNode(status(lb), b2.url()).path("state").asText()
          .equals("DOWN"));
      JsonNode down = backendNode(status(lb), b2.url());
      assertThat(down.path("reason").asText()).contains("consecutive failing probes");
      assertThat(down.path("checks_failed").asLong()).isGreaterThanOrEqualTo(2);
      assertThat(down.path("state_changes").asLong()).isEqualTo(1);
      assertThat(down.path("last_check").path("passed").asBoolean()).isFalse();
    }
  }

  @Test
  void failedAttemptsAreCountedByKindOnTheBackendThatFailed() throws Exception {
    TestBackend good = backends.start("good");
    TestBackend gone = backends.start("gone");
    gone.stop();
    try (Lb lb = Lb.builder().backends(good, gone).set("proxy.max_retries", "1").start();
        Traffic traffic = new Traffic(http, lb.port(), 2)) {
      await().atMost(Duration.ofSeconds(30)).until(() -> traffic.requests.get() >= 20);
      await().atMost(Duration.ofSeconds(30)).until(() -> backendNode(status(lb), gone.url()).path("errors")
          .path("connect_refused").asLong() > 0);
      JsonNode g = backendNode(status(lb), gone.url());
      assertThat(g.path("errors").path("retried").asLong()).isPositive();
      assertThat(g.path("responses").path("2xx").asLong()).isZero();
      assertThat(traffic.failures).as("each refused attempt was retried on the good backend").isEmpty();
    }
  }

  @Test
  void aReloadShowsWithItsChangesAndANewGeneration(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    TestBackend b1 = backends.start("b1");
    TestBackend b2 = backends.start("b2");
    java.nio.file.Path file = dir.resolve("lb.yaml");
    Lb.Builder config = Lb.builder().backends(b1);
    java.nio.file.Files.writeString(file, config.yaml());
    try (Lb lb = Lb.of(dev.lb.config.ConfigLoader.load(file), file)) {
      JsonNode before = status(lb).path("lb");
      assertThat(before.path("config_file").asText()).isEqualTo(file.toString());
      assertThat(before.path("last_reload").isNull()).isTrue();
      java.nio.file.Files.writeString(file, config.backends(b2).yaml());
      HttpResponse<String> reload = http.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + lb.adminPort() + "/reload"))
          .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(20)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(reload.statusCode()).isEqualTo(200);
      JsonNode after = status(lb);
      assertThat(after.path("lb").path("config_generation").asLong()).isEqualTo(2);
      JsonNode last = after.path("lb").path("last_reload");
      assertThat(last.path("result").asText()).isEqualTo("applied");
      assertThat(last.path("changes").toString()).contains("backends");
      assertThat(after.path("backends")).hasSize(2);
      java.nio.file.Files.writeString(file, "listen: [");
      http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lb.adminPort() + "/reload"))
          .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(20)).build(),
          HttpResponse.BodyHandlers.ofString());
      JsonNode refused = status(lb).path("lb");
      assertThat(refused.path("config_generation").asLong()).as("a refused reload changes nothing").isEqualTo(2);
      assertThat(refused.path("last_reload").path("result").asText()).isEqualTo("refused");
      assertThat(refused.path("last_reload").path("errors")).isNotEmpty();
    }
  }

  @Test
  void theCsvHasAHeaderAndOneRowPerBackend() throws Exception {
    TestBackend b1 = backends.start("b1");
    TestBackend b2 = backends.start("b2");
    try (Lb lb = Lb.builder().backends(b1, b2).start()) {
      HttpResponse<String> r = admin(lb, "/status?format=csv");
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("content-type")).hasValue("text/csv; charset=utf-8");
      String[] lines = r.body().split("\r\n");
      assertThat(lines).hasSize(3);
      assertThat(lines[0]).startsWith("url,name,upstream,state,since,");
      assertThat(lines[1]).startsWith(b1.url() + ",,default,UP,");
      assertThat(lines[2]).startsWith(b2.url() + ",,default,UP,");
      assertThat(admin(lb, "/status?format=xml").statusCode()).isEqualTo(400);
    }
  }

  @Test
  void thePageIsOneSelfContainedDocument() throws Exception {
    TestBackend b1 = backends.start("b1");
    try (Lb lb = Lb.builder().backends(b1).start()) {
      HttpResponse<String> r = admin(lb, "/status");
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
      assertThat(r.headers().firstValue("content-security-policy")).hasValueSatisfying(
          csp -> assertThat(csp).contains("default-src 'none'").contains("connect-src 'self'"));
      assertThat(r.body()).startsWith("<!DOCTYPE html>")
          .doesNotContainPattern("(src|href)\\s*=\\s*\"(https?:)?//");
    }
  }

  @Test
  void aTokenComesAsBearerOrAsTheBasicPasswordABrowserSends() throws Exception {
    TestBackend b1 = backends.start("b1");
    try (Lb lb = Lb.builder().backends(b1).set("admin.token", "s3cret").start()) {
      HttpResponse<String> none = admin(lb, "/status");
      assertThat(none.statusCode()).isEqualTo(401);
      assertThat(none.headers().firstValue("www-authenticate")).hasValueSatisfying(
          v -> assertThat(v).startsWith("Basic realm="));
      String basic = "Basic " + Base64.getEncoder().encodeToString("ops:s3cret".getBytes(StandardCharsets.UTF_8));
      assertThat(admin(lb, "/status", "Authorization", basic).statusCode()).isEqualTo(200);
      assertThat(admin(lb, "/status?format=json", "Authorization", "Bearer s3cret").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void refusalsShowWithTheClientsRefusedMost() throws Exception {
    TestBackend b1 = backends.start("b1");
    try (Lb lb = Lb.builder().backends(b1)
        .set("rate_limit.enabled", "true")
        .set("rate_limit.default", "{ capacity: 2, rate_per_sec: 0.1 }")
        .set("rate_limit.client_key", "\"header:X-API-Key\"")
        .set("store.url", "\"jdbc:h2:mem:lb-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1\"")
        .start()) {
      int[] sent = {12, 5, 3};
      String[] keys = {"noisy", "busy", "calm"};
      for (int k = 0; k < keys.length; k++) {
        for (int i = 0; i < sent[k]; i++) {
          HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lb.port() + "/"))
              .header("X-API-Key", keys[k]).timeout(Duration.ofSeconds(20)).build(),
              HttpResponse.BodyHandlers.ofString());
          assertThat(r.statusCode()).isIn(200, 429);
        }
      }
      JsonNode rl = status(lb).path("lb").path("rate_limit");
      assertThat(rl.path("enabled").asBoolean()).isTrue();
      assertThat(rl.path("scope").asText()).isEqualTo("local");
      assertThat(rl.path("store").asText()).isEqualTo("ok");
      assertThat(rl.path("limited_last_minute").asLong()).isEqualTo(10 + 3 + 1);
      JsonNode top = rl.path("top_refused");
      assertThat(top).hasSize(3);
      assertThat(top.get(0).path("client").asText()).isEqualTo("noisy");
      assertThat(top.get(0).path("count").asLong()).isEqualTo(10);
      assertThat(top.get(1).path("client").asText()).isEqualTo("busy");
      assertThat(top.get(2).path("client").asText()).isEqualTo("calm");
    }
  }
}
