package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lb.config.ConfigLoader;
import dev.lb.it.support.PrometheusText;
import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.RawResponse;
import dev.lb.it.support.TestBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Upstreams chosen by host and path, over real sockets: each rule of {@code routes}, the default upstream and the 404
 * without one, {@code strip_prefix}, paths that try to climb out of a prefix, the per-upstream limit, metrics and
 * {@code /upstreams}, and a reload that changes upstreams and routes under an open connection.
 */
class RoutingIT {
  private TestBackend api;
  private TestBackend web;
  private TestBackend fallback;

  @TempDir Path dir;

  @BeforeEach
  void start() {
    api = TestBackend.start("api");
    web = TestBackend.start("web");
    fallback = TestBackend.start("fallback");
  }

  @AfterEach
  void stop() {
    api.close();
    web.close();
    fallback.close();
  }

  private String config(boolean withDefault, String extraRoutes) {
    return """
        listen: { host: 127.0.0.1, port: 0, workers: 2 }
        admin: { host: 127.0.0.1, port: 0 }
        health_check: { enabled: false }
        """
        + (withDefault ? "backends: [" + fallback.url() + "]\n" : "")
        + """
        upstreams:
          api: { backends: [%s] }
          web: { backends: [%s] }
        routes:
          - { host: api.example.com, path_prefix: /v1/, upstream: api }
          - { host: "*.example.com", upstream: web }
          - { path_prefix: /static/, upstream: web, strip_prefix: true }
        """.formatted(api.url(), web.url())
        + extraRoutes;
  }

  private Lb lb(String yaml) throws Exception {
    Path file = dir.resolve("lb.yaml");
    Files.writeString(file, yaml);
    return Lb.of(ConfigLoader.load(file), file);
  }

  private static RawResponse get(Lb lb, String host, String target) throws Exception {
    try (RawHttpClient c = RawHttpClient.connect(lb.port())) {
      c.send("GET " + target + " HTTP/1.1\r\n" + (host == null ? "" : "Host: " + host + "\r\n")
          + "Connection: close\r\n\r\n");
      return c.readResponse();
    }
  }

  @Test
  void eachRuleSendsRequestsToItsUpstreamAndTheRestGoToTheDefault() throws Exception {
    try (Lb lb = lb(config(true, ""))) {
      assertThat(get(lb, "api.example.com", "/v1/users").bodyString()).isEqualTo("api");
      assertThat(get(lb, "API.Example.COM:8443", "/v1").bodyString()).as("case and port ignored").isEqualTo("api");
      assertThat(get(lb, "api.example.com", "/v10/users").bodyString())
          .as("/v1/ matches on segment boundaries only; the wildcard route comes next").isEqualTo("web");
      assertThat(get(lb, "shop.example.com", "/anything").bodyString()).isEqualTo("web");
      assertThat(get(lb, "a.b.example.com", "/").bodyString()).isEqualTo("web");
      assertThat(get(lb, "example.com", "/").bodyString()).as("*.example.com is not example.com")
          .isEqualTo("fallback");
      assertThat(get(lb, "other.org", "/static/app.css").bodyString()).isEqualTo("web");
      assertThat(get(lb, "other.org", "/api").bodyString()).isEqualTo("fallback");
      assertThat(get(lb, null, "/x").status()).as("HTTP/1.1 without Host is refused before routing")
          .isEqualTo(400);
    }
  }

  @Test
  void stripPrefixTakesThePrefixOffWhatTheBackendSeesAndKeepsTheQuery() throws Exception {
    try (Lb lb = lb(config(true, ""))) {
      web.clearRecordedRequests();
      assertThat(get(lb, "other.org", "/static/css/app.css?v=3").status()).isEqualTo(200);
      assertThat(web.takeRequest(Duration.ofSeconds(10)).uri()).isEqualTo("/css/app.css?v=3");
      assertThat(get(lb, "other.org", "/static").status()).isEqualTo(200);
      assertThat(web.takeRequest(Duration.ofSeconds(10)).uri()).isEqualTo("/");
      api.clearRecordedRequests();
      assertThat(get(lb, "api.example.com", "/v1/users?id=1").status()).isEqualTo(200);
      assertThat(api.takeRequest(Duration.ofSeconds(10)).uri()).as("not stripped: sent as received")
          .isEqualTo("/v1/users?id=1");
    }
  }

  @Test
  void pathsAreNormalisedBeforeMatchingSoThatNoneClimbsOutOfAPrefix() throws Exception {
    try (Lb lb = lb(config(true, ""))) {
      // Each would reach /v1/ by its raw text, or leave it after normalisation: routed as the backend will read it.
      assertThat(get(lb, "api.example.com", "/v1/../admin").bodyString()).isEqualTo("web");
      assertThat(get(lb, "api.example.com", "/v1/%2e%2e/admin").bodyString()).isEqualTo("web");
      assertThat(get(lb, "api.example.com", "/x/../v1/users").bodyString()).isEqualTo("api");
      assertThat(get(lb, "api.example.com", "//v1//users").bodyString()).isEqualTo("api");
      assertThat(get(lb, "api.example.com", "/%76%31/users").bodyString()).as("%76%31 is v1").isEqualTo("api");
      assertThat(get(lb, "other.org", "/static%2F..%2Fadmin").bodyString())
          .as("an encoded slash is no separator: one segment, not under /static/").isEqualTo("fallback");
      assertThat(get(lb, "other.org", "/static/../../etc/passwd").bodyString()).isEqualTo("fallback");
    }
  }

  @Test
  void withoutADefaultUpstreamAnUnroutedRequestGets404JsonAndTheConnectionStays() throws Exception {
    try (Lb lb = lb(config(false, ""))) {
      try (RawHttpClient c = RawHttpClient.connect(lb.port())) {
        c.send("GET /nowhere HTTP/1.1\r\nHost: other.org\r\n\r\n");
        RawResponse r = c.readResponse();
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.header("content-type")).isEqualTo("application/json");
        assertThat(r.bodyString()).isEqualTo("{\"code\":404,\"message\":\"No route for this host and path\"}");
        c.send("GET /v1/x HTTP/1.1\r\nHost: api.example.com\r\n\r\n");
        assertThat(c.readResponse().bodyString()).as("same connection, next request routed").isEqualTo("api");
      }
      PrometheusText m = PrometheusText.parse(scrape(lb));
      assertThat(m.value("lb_requests_total{backend=\"none\",code=\"404\",upstream=\"none\"}")).isEqualTo(1);
      assertThat(m.value("lb_requests_total{backend=\"" + api.url() + "\",code=\"200\",upstream=\"api\"}"))
          .isEqualTo(1);
    }
  }

  @Test
  void anUpstreamsOwnDefaultLimitCountsItsRequestsInBucketsOfItsOwn() throws Exception {
    String yaml = config(true, "").replace("api: { backends: [" + api.url() + "] }",
        "api: { backends: [" + api.url() + "], rate_limit: { default: { capacity: 2, rate_per_sec: 0.001 } } }")
        + "rate_limit: { enabled: true, default: { capacity: 100, rate_per_sec: 1 } }\n";
    try (Lb lb = lb(yaml)) {
      int[] codes = new int[4];
      for (int i = 0; i < 4; i++) {
        codes[i] = get(lb, "api.example.com", "/v1/x").status();
      }
      assertThat(codes).containsExactly(200, 200, 429, 429);
      for (int i = 0; i < 5; i++) {
        assertThat(get(lb, "shop.example.com", "/").status())
            .as("the same client on another upstream: the top-level default, its own bucket").isEqualTo(200);
      }
      PrometheusText m = PrometheusText.parse(scrape(lb));
      assertThat(m.value("lb_requests_total{backend=\"none\",code=\"429\",upstream=\"api\"}")).isEqualTo(2);
    }
  }

  @Test
  void upstreamsEndpointGroupsBackendsAndRoutesByUpstream() throws Exception {
    try (Lb lb = lb(config(true, ""))) {
      JsonNode ups = admin(lb, "/upstreams");
      assertThat(ups).extracting(n -> n.path("name").asText()).containsExactly("default", "api", "web");
      assertThat(ups.get(1).path("backends").get(0).path("url").asText()).isEqualTo(api.url());
      assertThat(ups.get(1).path("routes").get(0).path("path_prefix").asText()).isEqualTo("/v1/");
      assertThat(ups.get(2).path("routes")).hasSize(2);
      assertThat(ups.get(0).path("takes_unrouted").asBoolean()).isTrue();
      JsonNode backends = lb.backendsJson();
      assertThat(backends).extracting(n -> n.path("upstream").asText()).containsExactly("default", "api", "web");
    }
  }

  @Test
  void aReloadAddsRemovesAndChangesUpstreamsAndRoutesWithoutClosingClientConnections() throws Exception {
    try (Lb lb = lb(config(true, ""));
        TestBackend extra = TestBackend.start("extra");
        RawHttpClient c = RawHttpClient.connect(lb.port())) {
      c.send("GET /v1/a HTTP/1.1\r\nHost: api.example.com\r\n\r\n");
      assertThat(c.readResponse().bodyString()).isEqualTo("api");
      String next = config(true, "").replace("web: { backends: [" + web.url() + "] }",
              "extra: { backends: [" + extra.url() + "] }")
          .replace("upstream: web", "upstream: extra")
          .replace("- { host: api.example.com, path_prefix: /v1/, upstream: api }",
              "- { host: api.example.com, path_prefix: /v2/, upstream: api }");
      Files.writeString(dir.resolve("lb.yaml"), next);
      assertThat(lb.server().reload(dir.resolve("lb.yaml")).result()).isEqualTo("applied");
      c.send("GET /v2/a HTTP/1.1\r\nHost: api.example.com\r\n\r\n");
      assertThat(c.readResponse().bodyString()).as("the changed route, on the same connection").isEqualTo("api");
      c.send("GET /v1/a HTTP/1.1\r\nHost: api.example.com\r\n\r\n");
      assertThat(c.readResponse().bodyString()).as("the old route is gone: the wildcard's upstream")
          .isEqualTo("extra");
      c.send("GET /static/a HTTP/1.1\r\nHost: other.org\r\n\r\n");
      assertThat(c.readResponse().bodyString()).isEqualTo("extra");
      assertThat(c.isClosedByPeer(Duration.ofMillis(200))).isFalse();
      assertThat(lb.backendsJson()).extracting(n -> n.path("url").asText())
          .containsExactly(fallback.url(), api.url(), extra.url());
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
          scrape(lb)).doesNotContain("upstream=\"web\""));
    }
  }

  private static JsonNode admin(Lb lb, String path) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lb.adminPort() + path))
            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return new ObjectMapper().readTree(r.body());
  }

  private static String scrape(Lb lb) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lb.adminPort() + "/metrics"))
            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }
}
