package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lb.it.support.TestBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Backends dying, failing their health path, and coming back, under real traffic: removal and return times, no
 * failed requests meanwhile, and {@code /backends} following every change.
 */
class HealthIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int INTERVAL_MS = 500;
  private static final int TIMEOUT_MS = 300;
  private static final int UNHEALTHY = 3;
  private static final int HEALTHY = 2;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private TestBackend b1;
  private TestBackend b2;
  private TestBackend b3;

  @AfterEach
  void stopBackends() {
    for (TestBackend b : new TestBackend[] {b1, b2, b3}) {
      if (b != null) {
        b.close();
      }
    }
  }

  private Lb.Builder balancer() throws Exception {
    b1 = TestBackend.start("b1");
    b2 = TestBackend.start("b2");
    b3 = TestBackend.start("b3");
    return Lb.builder().workers(2).backends(b1, b2, b3)
        .set("health_check.enabled", "true")
        .set("health_check.interval", INTERVAL_MS + "ms")
        .set("health_check.timeout", TIMEOUT_MS + "ms")
        .set("health_check.unhealthy_threshold", Integer.toString(UNHEALTHY))
        .set("health_check.healthy_threshold", Integer.toString(HEALTHY));
  }

  private JsonNode backends(Lb lb) throws Exception {
    return lb.backendsJson();
  }

  private JsonNode backend(Lb lb, TestBackend which) throws Exception {
    return lb.backendJson(which.url());
  }

  private HttpResponse<String> get(Lb lb, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lb.port() + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aDeadBackendIsOutQuicklyNoRequestFailsAndItComesBackAfterPassingProbes() throws Exception {
    try (Lb lb = balancer().start(); Traffic traffic = new Traffic(http, lb.port(), 4)) {
      await().atMost(Duration.ofSeconds(10)).until(() -> traffic.servedBy.size() == 3);
      JsonNode before = backend(lb, b2);
      assertThat(before.path("healthy").asBoolean()).isTrue();
      assertThat(before.path("state").asText()).isEqualTo("up");

      long died = System.nanoTime();
      b2.stop();
      await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
          .until(() -> !backend(lb, b2).path("healthy").asBoolean());
      long removalMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - died);
      // Traffic may eject it first (passive), the probes mark it down on their own (active).
      await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
          .until(() -> backend(lb, b2).path("active").asText().equals("down"));
      JsonNode down = backend(lb, b2);
      assertThat(down.path("state").asText()).isEqualTo("down");
      assertThat(down.path("consecutive_failures").asInt()).isGreaterThanOrEqualTo(UNHEALTHY);
      assertThat(down.path("state_reason").asText()).contains("consecutive failing probes");
      assertThat(down.path("state_since").asText()).isNotEqualTo(before.path("state_since").asText());
      assertThat(removalMs).as("removal within unhealthy_threshold x interval + timeout")
          .isLessThanOrEqualTo((long) UNHEALTHY * INTERVAL_MS + TIMEOUT_MS);

      long servedAfterRemoval = traffic.requests.get();
      await().until(() -> traffic.requests.get() > servedAfterRemoval + 100);
      long b2Before = b2.requests();

      long restarted = System.nanoTime();
      b2.restart();
      await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
          .until(() -> backend(lb, b2).path("healthy").asBoolean());
      long backMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restarted);
      await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5))
          .until(() -> b2.recordedRequests().stream().anyMatch(r -> r.path().equals("/")));
      long firstRequestMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restarted);
      JsonNode up = backend(lb, b2);
      assertThat(up.path("state").asText()).isEqualTo("up");
      assertThat(up.path("state_reason").asText()).isEqualTo("2 consecutive passing probes (status 200)");
      assertThat(up.path("last_check").asText()).isNotEmpty();
      assertThat(up.path("last_check_result").asText()).isEqualTo("status 200");
      assertThat(backMs).as("back after healthy_threshold passes")
          .isLessThanOrEqualTo((long) (HEALTHY + 1) * INTERVAL_MS + TIMEOUT_MS + 500);
      assertThat(b2.requests()).isGreaterThan(b2Before);

      traffic.close();
      assertThat(traffic.failures).as("failed client requests").isEmpty();
      System.out.printf("health: removal %d ms after the backend died; healthy %d ms and first request %d ms after"
          + " it came back; %d requests, none failed%n", removalMs, backMs, firstRequestMs, traffic.requests.get());
    }
  }

  @Test
  void withoutTrafficTheProbesAloneTakeADeadBackendOutWithinTheirBound() throws Exception {
    try (Lb lb = balancer().start()) {
      await().atMost(Duration.ofSeconds(5)).until(() -> !backend(lb, b2).path("last_check").isNull());
      long died = System.nanoTime();
      b2.stop();
      await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
          .until(() -> !backend(lb, b2).path("healthy").asBoolean());
      long removalMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - died);
      assertThat(backend(lb, b2).path("state_reason").asText())
          .isEqualTo("3 consecutive failing probes, the last: connection refused");
      assertThat(removalMs).isLessThanOrEqualTo((long) UNHEALTHY * INTERVAL_MS + TIMEOUT_MS);
      System.out.printf("health: probes alone took a dead backend out %d ms after it died (bound %d ms)%n",
          removalMs, UNHEALTHY * INTERVAL_MS + TIMEOUT_MS);
    }
  }

  @Test
  void aBackendFailingItsHealthPathGetsNoTrafficWhileItsMainPathWorks() throws Exception {
    try (Lb lb = balancer().set("health_check.unhealthy_threshold", "2").start()) {
      b2.setHealthStatus(503);
      await().atMost(Duration.ofSeconds(10)).until(() -> !backend(lb, b2).path("healthy").asBoolean());
      assertThat(backend(lb, b2).path("last_check_result").asText()).isEqualTo("status 503");
      b2.clearRecordedRequests();
      for (int i = 0; i < 30; i++) {
        HttpResponse<String> r = get(lb, "/");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isIn("b1", "b3");
      }
      assertThat(b2.recordedRequests()).allSatisfy(r -> assertThat(r.path()).isEqualTo("/health"));
      HttpResponse<String> direct = http.send(HttpRequest.newBuilder(URI.create(b2.url() + "/")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(direct.statusCode()).isEqualTo(200);
      assertThat(direct.body()).isEqualTo("b2");

      b2.setHealthStatus(200);
      await().atMost(Duration.ofSeconds(10)).until(() -> backend(lb, b2).path("healthy").asBoolean());
      await().atMost(Duration.ofSeconds(5)).until(() -> get(lb, "/").body().equals("b2"));
    }
  }

  @Test
  void whenEveryBackendIsDownRequestsGet503AtOnceAndTheProbesGoOn() throws Exception {
    try (Lb lb = balancer().set("health_check.unhealthy_threshold", "1").start()) {
      for (TestBackend b : new TestBackend[] {b1, b2, b3}) {
        b.setHealthStatus(503);
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> {
        for (JsonNode n : backends(lb)) {
          if (n.path("healthy").asBoolean()) {
            return false;
          }
        }
        return true;
      });
      long accepted = b1.connectionsAccepted() + b2.connectionsAccepted() + b3.connectionsAccepted();
      long mainPath = mainPathRequests();
      long t0 = System.nanoTime();
      HttpResponse<String> r = get(lb, "/");
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
      assertThat(r.body()).isEqualTo("{\"code\":503,\"message\":\"No healthy backends\"}");
      assertThat(mainPathRequests()).as("no request reached a backend").isEqualTo(mainPath);

      await().atMost(Duration.ofSeconds(5)).until(
          () -> b1.connectionsAccepted() + b2.connectionsAccepted() + b3.connectionsAccepted() > accepted + 3);
      b3.setHealthStatus(200);
      await().atMost(Duration.ofSeconds(10)).until(() -> get(lb, "/").statusCode() == 200);
      assertThat(get(lb, "/").body()).isEqualTo("b3");
    }
  }

  private long mainPathRequests() {
    long n = 0;
    for (TestBackend b : new TestBackend[] {b1, b2, b3}) {
      n += b.recordedRequests().stream().filter(r -> !r.path().equals("/health")).count();
    }
    return n;
  }

  @Test
  void backendsNeedTheTokenWhenOneIsSet() throws Exception {
    try (Lb lb = balancer().set("admin.token", "\"t0ken\"").start()) {
      URI uri = URI.create("http://127.0.0.1:" + lb.adminPort() + "/backends");
      assertThat(http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
          .isEqualTo(401);
      HttpResponse<String> ok = http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer t0ken").build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(ok.statusCode()).isEqualTo(200);
      JsonNode list = JSON.readTree(ok.body());
      assertThat(list).hasSize(3);
      JsonNode first = list.get(0);
      assertThat(first.path("url").asText()).isEqualTo(b1.url());
      for (String field : new String[] {"url", "healthy", "weight", "active_requests", "consecutive_failures",
          "last_check", "state_since"}) {
        assertThat(first.has(field)).as(field).isTrue();
      }
      assertThat(first.path("weight").asInt()).isEqualTo(1);
      assertThat(first.path("active_requests").asInt()).isZero();
    }
  }
}
