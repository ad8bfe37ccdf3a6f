package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lb.config.ConfigLoader;
import dev.lb.it.support.TestBackend;
import dev.lb.it.support.TestBackends;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's actions over the admin API, under real traffic: drain, maintenance and ready on one backend (by
 * name and by URL), {@code POST /reload}, {@code GET /config} and {@code GET /version}.
 */
class BackendActionsIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  @AutoClose private final TestBackends backends = new TestBackends();
  @TempDir Path dir;



  private HttpResponse<String> admin(Lb lb, String method, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lb.adminPort() + path))
        .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(20)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(Lb lb, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lb.port() + path))
        .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String encoded(String id) {
    return URLEncoder.encode(id, StandardCharsets.UTF_8);
  }

  @Test
  void aDrainedBackendTakesNoNewRequestsFinishesTheOnesUnderWayAndComesBackWhenReady() throws Exception {
    TestBackend b1 = backends.start("b1");
    TestBackend b2 = backends.start("b2");
    try (Lb lb = Lb.builder().backend(b1.url()).backendLine("{url: \"" + b2.url() + "\", name: web-2}").start()) {
      // Requests under way on b2 when it is drained still finish.
      b2.setDelayMillis(1_500);
      List<CompletableFuture<HttpResponse<String>>> slow = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        slow.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lb.port() + "/"))
            .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString()));
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> b2.requests() >= 1);

      HttpResponse<String> drained = admin(lb, "POST", "/backends/web-2/drain");
      assertThat(drained.statusCode()).isEqualTo(200);
      JsonNode view = JSON.readTree(drained.body());
      assertThat(view.path("name").asText()).isEqualTo("web-2");
      assertThat(view.path("state").asText()).isEqualTo("drain");
      assertThat(view.path("admin_state").asText()).isEqualTo("drain");
      assertThat(view.path("healthy").asBoolean()).isFalse();
      for (CompletableFuture<HttpResponse<String>> r : slow) {
        assertThat(r.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      }
      b2.setDelayMillis(0);

      long b2Drained = b2.requests();
      try (Traffic traffic = new Traffic(http, lb.port(), 3)) {
        long b1Before = b1.requests();
        await().atMost(Duration.ofSeconds(20)).until(() -> b1.requests() > b1Before + 100);
        assertThat(b2.requests()).as("a drained backend gets no new request").isEqualTo(b2Drained);

        HttpResponse<String> ready = admin(lb, "POST", "/backends/" + encoded(b2.url()) + "/ready");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(ready.body()).path("state").asText()).isEqualTo("up");
        await().atMost(Duration.ofSeconds(20)).until(() -> b2.requests() > b2Drained + 50);
        assertThat(lb.backendJson(b2.url()).path("admin_state").asText()).isEqualTo("ready");
      }
    }
  }

  @Test
  void maintenanceStopsTheProbesAndReadyBringsTheBackendBackThroughThem() throws Exception {
    TestBackend b1 = backends.start("b1");
    TestBackend b2 = backends.start("b2");
    try (Lb lb = Lb.builder().backends(b1, b2)
        .set("health_check.enabled", "true")
        .set("health_check.interval", "200ms")
        .set("health_check.timeout", "1s")
        .set("health_check.healthy_threshold", "3")
        .start();
        Traffic traffic = new Traffic(http, lb.port(), 3)) {
      await().atMost(Duration.ofSeconds(20)).until(() -> probes(b2) >= 2 && b2.requests() > probes(b2) + 10);

      HttpResponse<String> maint = admin(lb, "POST", "/backends/" + encoded("127.0.0.1:" + b2.port()) + "/maintenance");
      assertThat(maint.statusCode()).isEqualTo(200);
      assertThat(JSON.readTree(maint.body()).path("state").asText()).isEqualTo("maint");
      // A probe or request under way when it went into maintenance may still arrive; then nothing.
      await().atMost(Duration.ofSeconds(20)).until(() -> {
        long before = b2.requests();
        Thread.sleep(1_000);
        return b2.requests() == before;
      });
      long quiet = b2.requests();
      await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(10)).until(() -> b2.requests() == quiet);

      HttpResponse<String> ready = admin(lb, "POST", "/backends/" + encoded(b2.url()) + "/ready");
      assertThat(ready.statusCode()).isEqualTo(200);
      JsonNode view = JSON.readTree(ready.body());
      assertThat(view.path("state").asText()).as("down until three probes pass").isEqualTo("down");
      assertThat(view.path("state_reason").asText()).isEqualTo("out of maintenance: back after 3 passing probes");
      await().atMost(Duration.ofSeconds(20)).until(() -> lb.backendJson(b2.url()).path("state").asText().equals("up"));
      await().atMost(Duration.ofSeconds(20)).until(() -> b2.requests() > quiet + 50);
      assertThat(traffic.failures).isEmpty();
    }
  }

  private static long probes(TestBackend b) {
    return b.recordedRequests().stream().filter(r -> r.path().equals("/health")).count();
  }

  @Test
  void anUnknownBackendIs404AndTheTokenIsNeededWhenOneIsSet() throws Exception {
    TestBackend b1 = backends.start("b1");
    try (Lb lb = Lb.builder().backends(b1).set("admin.token", "\"t0ken\"").start()) {
      assertThat(admin(lb, "POST", "/backends/web-1/drain").statusCode()).isEqualTo(401);
      HttpResponse<String> unknown = http.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + lb.adminPort() + "/backends/web-9/drain"))
          .header("Authorization", "Bearer t0ken").POST(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(unknown.statusCode()).isEqualTo(404);
      assertThat(JSON.readTree(unknown.body()).path("message").asText())
          .isEqualTo("No backend with URL, name or host:port 'web-9'");
      assertThat(get(lb, "/").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void postReloadDoesWhatSighupDoesAndSaysHowItWent() throws Exception {
    TestBackend b1 = backends.start("b1");
    TestBackend b2 = backends.start("b2");
    Path file = dir.resolve("lb.yaml");
    String base = "listen: {host: 127.0.0.1, port: 0}\nadmin: {host: 127.0.0.1, port: 0, token: \"\"}\n"
        + "health_check: {enabled: false}\nstore: {password: hunter2}\n";
    Files.writeString(file, base + "backends:\n  - {url: \"" + b1.url() + "\", name: one}\n");
    try (Lb lb = Lb.of(ConfigLoader.load(file), file)) {
      HttpResponse<String> unchanged = admin(lb, "POST", "/reload");
      assertThat(unchanged.statusCode()).isEqualTo(200);
      assertThat(JSON.readTree(unchanged.body()).path("result").asText()).isEqualTo("unchanged");

      // A drain lasts until the configuration is read again.
      assertThat(admin(lb, "POST", "/backends/one/drain").statusCode()).isEqualTo(200);
      assertThat(get(lb, "/").statusCode()).isEqualTo(503);
      Files.writeString(file, base + "backends:\n  - {url: \"" + b1.url() + "\", name: one}\n  - " + b2.url() + "\n");
      HttpResponse<String> applied = admin(lb, "POST", "/reload");
      assertThat(applied.statusCode()).isEqualTo(200);
      JsonNode outcome = JSON.readTree(applied.body());
      assertThat(outcome.path("result").asText()).isEqualTo("applied");
      assertThat(outcome.path("file").asText()).isEqualTo(file.toString());
      assertThat(outcome.path("changes").toString()).contains("backends");
      assertThat(outcome.path("restart_required")).isEmpty();
      assertThat(lb.backendJson(b1.url()).path("admin_state").asText()).isEqualTo("ready");
      await().atMost(Duration.ofSeconds(10)).until(() -> {
        get(lb, "/");
        return b1.requests() > 0 && b2.requests() > 0;
      });

      // A key that needs a restart is named while the file differs from what runs, not after it is set back.
      String moved = Files.readString(file).replace("port: 0}\nadmin", "port: 18999}\nadmin");
      Files.writeString(file, moved);
      JsonNode away = JSON.readTree(admin(lb, "POST", "/reload").body());
      assertThat(away.path("result").asText()).isEqualTo("applied");
      assertThat(away.path("restart_required").toString()).contains("listen.port: 0 -> 18999");
      Files.writeString(file, moved.replace("port: 18999}", "port: 0}"));
      JsonNode back = JSON.readTree(admin(lb, "POST", "/reload").body());
      assertThat(back.path("changes").toString()).contains("listen.port: 18999 -> 0");
      assertThat(back.path("restart_required")).isEmpty();

      Files.writeString(file, "listen: {port: \"not a port\"}\nbackends: []\n");
      HttpResponse<String> refused = admin(lb, "POST", "/reload");
      assertThat(refused.statusCode()).isEqualTo(422);
      JsonNode why = JSON.readTree(refused.body());
      assertThat(why.path("code").asInt()).isEqualTo(422);
      assertThat(why.path("result").asText()).isEqualTo("refused");
      assertThat(why.path("errors").toString()).contains("listen.port");
      assertThat(why.path("message").asText()).startsWith("Reload of " + file + " refused");
      assertThat(get(lb, "/").statusCode()).as("the running configuration stays").isEqualTo(200);

      JsonNode config = JSON.readTree(admin(lb, "GET", "/config").body());
      assertThat(config.path("backends").get(0).path("name").asText()).isEqualTo("one");
      assertThat(config.path("store").path("password").asText()).isEqualTo("****");
      JsonNode version = JSON.readTree(admin(lb, "GET", "/version").body());
      assertThat(version.path("version").asText()).isNotEmpty();
      assertThat(version.path("java").asText()).startsWith(Integer.toString(Runtime.version().feature()));
    }
  }

  @Test
  void withoutAFileThereIsNothingToReload() throws Exception {
    TestBackend b1 = backends.start("b1");
    try (Lb lb = Lb.builder().backends(b1).start()) {
      HttpResponse<String> r = admin(lb, "POST", "/reload");
      assertThat(r.statusCode()).isEqualTo(409);
      assertThat(JSON.readTree(r.body()).path("message").asText()).contains("started without one");
    }
  }
}
