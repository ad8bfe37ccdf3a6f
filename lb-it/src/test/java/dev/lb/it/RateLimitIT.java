package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.RawResponse;
import dev.lb.it.support.TestBackend;
import dev.lb.server.limits.TestPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Token buckets per client over real sockets, the /clients API, and limits kept in a database. */
class RateLimitIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  @AutoClose private final TestBackend backend = TestBackend.start("b1");

  @TempDir Path dir;


  private Lb.Builder limited(String storeUrl) {
    return Lb.builder().workers(2).backends(backend)
        .set("rate_limit.enabled", "true")
        .set("rate_limit.default", "{ capacity: 3, rate_per_sec: 0.5 }")
        .set("store.url", "\"" + storeUrl + "\"")
        .set("store.poll_interval", "200ms");
  }

  private static String memoryStore() {
    return "jdbc:h2:mem:lb-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
  }

  private static RawResponse get(RawHttpClient client, String headers) throws Exception {
    client.send("GET /x HTTP/1.1\r\nHost: lb\r\n" + headers + "\r\n");
    return client.readResponse();
  }

  private HttpResponse<String> admin(Lb lb, String method, String path, String body, String... headers)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lb.adminPort() + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .timeout(Duration.ofSeconds(10));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void capacityRequestsPassThenA429WithTheExactBodyAndHeaders() throws Exception {
    try (Lb lb = limited(memoryStore()).start(); RawHttpClient client = RawHttpClient.connect(lb.port())) {
      for (int i = 0; i < 3; i++) {
        RawResponse ok = get(client, "");
        assertThat(ok.status()).isEqualTo(200);
        assertThat(ok.header("RateLimit-Limit")).isEqualTo("3");
        assertThat(ok.header("RateLimit-Remaining")).isEqualTo(Integer.toString(2 - i));
        assertThat(ok.header("RateLimit-Reset")).isNotNull();
      }
      long seen = backend.requests();
      RawResponse refused = get(client, "");
      assertThat(refused.status()).isEqualTo(429);
      assertThat(refused.bodyString()).isEqualTo("{\"code\":429,\"message\":\"Rate limit exceeded\"}");
      assertThat(refused.header("Content-Type")).isEqualTo("application/json");
      assertThat(Integer.parseInt(refused.header("Retry-After"))).isBetween(1, 2);
      assertThat(refused.header("RateLimit-Limit")).isEqualTo("3");
      assertThat(refused.header("RateLimit-Remaining")).isEqualTo("0");
      assertThat(Integer.parseInt(refused.header("RateLimit-Reset"))).isBetween(5, 6);
      assertThat(refused.header("X-Request-Id")).isNotBlank();
      assertThat(backend.requests()).as("no backend saw it").isEqualTo(seen);

      client.send("POST /x HTTP/1.1\r\nHost: lb\r\nContent-Length: 5\r\n\r\nhello");
      assertThat(client.readResponse().status()).isEqualTo(429);
      assertThat(client.isClosedByPeer(Duration.ofMillis(300))).as("the connection stays usable").isFalse();
      await().atMost(Duration.ofSeconds(5)).until(() -> get(client, "").status() == 200);
    }
  }

  @Test
  void writingAClientLimitWhileRateLimitingIsOffIs409SayingHowToTurnItOn() throws Exception {
    try (Lb lb = Lb.builder().backends(backend).start()) {
      String base = "http://127.0.0.1:" + lb.adminPort() + "/clients";
      HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create(base))
          .POST(HttpRequest.BodyPublishers.ofString("{\"client_id\":\"u1\",\"capacity\":5,\"rate_per_sec\":1}"))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(post.statusCode()).isEqualTo(409);
      JsonNode body = JSON.readTree(post.body());
      assertThat(body.path("code").asInt()).isEqualTo(409);
      assertThat(body.path("message").asText()).startsWith("Rate limiting is off: set rate_limit.enabled: true");
      HttpResponse<String> delete = http.send(HttpRequest.newBuilder(URI.create(base + "/u1")).DELETE().build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(delete.statusCode()).isEqualTo(409);
      assertThat(http.send(HttpRequest.newBuilder(URI.create(base)).build(), HttpResponse.BodyHandlers.ofString())
          .statusCode()).as("reading the configured limits still works").isEqualTo(200);
    }
  }

  @Test
  void differentClientsHaveTheirOwnBuckets() throws Exception {
    try (Lb lb = limited(memoryStore()).set("rate_limit.client_key", "\"header:X-API-Key\"").start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      for (int i = 0; i < 3; i++) {
        assertThat(get(client, "X-API-Key: alice\r\n").status()).isEqualTo(200);
      }
      assertThat(get(client, "X-API-Key: alice\r\n").status()).isEqualTo(429);
      assertThat(get(client, "X-API-Key: bob\r\n").status()).isEqualTo(200);
      assertThat(get(client, "").status()).as("no key: the address's bucket").isEqualTo(200);
    }
  }

  @Test
  void behindATrustedProxyTheForwardedClientIsLimited() throws Exception {
    try (Lb lb = limited(memoryStore()).set("rate_limit.trusted_proxies", "[127.0.0.1/32, \"::1\"]").start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      for (int i = 0; i < 3; i++) {
        assertThat(get(client, "X-Forwarded-For: 198.51.100.1\r\n").status()).isEqualTo(200);
      }
      assertThat(get(client, "X-Forwarded-For: 198.51.100.1\r\n").status()).isEqualTo(429);
      assertThat(get(client, "X-Forwarded-For: 6.6.6.6, 198.51.100.2\r\n").status()).isEqualTo(200);
    }
  }

  @Test
  void aLimitSetThroughTheApiAppliesToTheNextRequest() throws Exception {
    try (Lb lb = limited(memoryStore()).set("rate_limit.client_key", "\"header:X-API-Key\"").start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      for (int i = 0; i < 3; i++) {
        get(client, "X-API-Key: vip\r\n");
      }
      assertThat(get(client, "X-API-Key: vip\r\n").status()).isEqualTo(429);
      HttpResponse<String> created = admin(lb, "POST", "/clients",
          "{\"client_id\":\"vip\",\"capacity\":10,\"rate_per_sec\":100}");
      assertThat(created.statusCode()).isEqualTo(201);
      JsonNode body = JSON.readTree(created.body());
      assertThat(body.path("client_id").asText()).isEqualTo("vip");
      assertThat(body.path("capacity").asLong()).isEqualTo(10);
      assertThat(body.path("rate_per_sec").asDouble()).isEqualTo(100);
      assertThat(body.path("source").asText()).isEqualTo("api");
      await().atMost(Duration.ofSeconds(2)).until(() -> get(client, "X-API-Key: vip\r\n").status() == 200);
      assertThat(get(client, "X-API-Key: vip\r\n").header("RateLimit-Limit")).isEqualTo("10");
      assertThat(get(client, "X-API-Key: other\r\n").header("RateLimit-Limit")).isEqualTo("3");

      assertThat(admin(lb, "POST", "/clients", "{\"client_id\":\"vip\",\"capacity\":1,\"rate_per_sec\":1}")
          .statusCode()).isEqualTo(409);
      assertThat(admin(lb, "PUT", "/clients/vip", "{\"capacity\":20,\"rate_per_sec\":1}").statusCode())
          .isEqualTo(200);
      assertThat(admin(lb, "PUT", "/clients/new%20one", "{\"capacity\":20,\"rate_per_sec\":1}").statusCode())
          .isEqualTo(201);
      assertThat(JSON.readTree(admin(lb, "GET", "/clients/new%20one", null).body()).path("client_id").asText())
          .isEqualTo("new one");
      JsonNode list = JSON.readTree(admin(lb, "GET", "/clients", null).body());
      assertThat(list).hasSize(2);
      assertThat(admin(lb, "DELETE", "/clients/vip", null).statusCode()).isEqualTo(204);
      assertThat(admin(lb, "DELETE", "/clients/vip", null).statusCode()).isEqualTo(404);
      assertThat(admin(lb, "GET", "/clients/vip", null).statusCode()).isEqualTo(404);
      HttpResponse<String> bad = admin(lb, "POST", "/clients", "{\"client_id\":\"x\",\"capacity\":0,\"rate_per_sec\":1}");
      assertThat(bad.statusCode()).isEqualTo(400);
      assertThat(JSON.readTree(bad.body()).path("message").asText()).contains("capacity");
    }
  }

  @Test
  void theApiNeedsTheTokenWhenOneIsSet() throws Exception {
    try (Lb lb = limited(memoryStore()).set("admin.token", "\"s3cret\"").start()) {
      assertThat(admin(lb, "GET", "/clients", null).statusCode()).isEqualTo(401);
      assertThat(admin(lb, "GET", "/clients", null, "Authorization", "Bearer nope").statusCode()).isEqualTo(401);
      assertThat(admin(lb, "GET", "/clients", null, "Authorization", "Bearer s3cret").statusCode()).isEqualTo(200);
      assertThat(admin(lb, "GET", "/healthz", null).statusCode()).as("open endpoints stay open").isEqualTo(200);
    }
  }

  @Test
  void limitsAndBucketLevelsSurviveARestartOnH2() throws Exception {
    String store = "jdbc:h2:file:" + dir.resolve("lb-store").toAbsolutePath();
    Lb.Builder config = limited(store).set("rate_limit.client_key", "\"header:X-API-Key\"");
    try (Lb first = config.start()) {
      assertThat(admin(first, "PUT", "/clients/abuser", "{\"capacity\":5,\"rate_per_sec\":0.01}").statusCode())
          .isEqualTo(201);
      try (RawHttpClient client = RawHttpClient.connect(first.port())) {
        for (int i = 0; i < 5; i++) {
          assertThat(get(client, "X-API-Key: abuser\r\n").status()).isEqualTo(200);
        }
        assertThat(get(client, "X-API-Key: abuser\r\n").status()).isEqualTo(429);
      }
      first.server().drainAndStop();
    }
    try (Lb second = config.start(); RawHttpClient client = RawHttpClient.connect(second.port())) {
      JsonNode kept = JSON.readTree(admin(second, "GET", "/clients/abuser", null).body());
      assertThat(kept.path("capacity").asLong()).isEqualTo(5);
      RawResponse afterRestart = get(client, "X-API-Key: abuser\r\n");
      assertThat(afterRestart.status()).as("the bucket is still empty after the restart").isEqualTo(429);
    }
  }

  @Test
  void twoReplicasSharingPostgresSeeEachOthersChanges() throws Exception {
    TestPostgres.assumeAvailable();
    try (TestPostgres.Schema schema = TestPostgres.newSchema();
        Lb one = limited(schema.url()).set("rate_limit.client_key", "\"header:X-API-Key\"").start();
        Lb two = limited(schema.url()).set("rate_limit.client_key", "\"header:X-API-Key\"").start();
        RawHttpClient client = RawHttpClient.connect(two.port())) {
      assertThat(get(client, "X-API-Key: shared\r\n").header("RateLimit-Limit")).isEqualTo("3");
      assertThat(admin(one, "PUT", "/clients/shared", "{\"capacity\":42,\"rate_per_sec\":1}").statusCode())
          .isEqualTo(201);
      long t0 = System.nanoTime();
      await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
          .until(() -> "42".equals(get(client, "X-API-Key: shared\r\n").header("RateLimit-Limit")));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(ms).as("within poll_interval (200 ms) and a little").isLessThan(1_500);
      JsonNode fromTwo = JSON.readTree(admin(two, "GET", "/clients/shared", null).body());
      assertThat(fromTwo.path("capacity").asLong()).isEqualTo(42);
      assertThat(admin(two, "DELETE", "/clients/shared", null).statusCode()).isEqualTo(204);
      await().atMost(Duration.ofSeconds(5)).until(() -> admin(one, "GET", "/clients/shared", null).statusCode() == 404);
      System.out.printf("ratelimit: a change through one replica was enforced by the other after %d ms%n", ms);
    }
  }
}
