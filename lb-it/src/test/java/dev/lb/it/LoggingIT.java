package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lb.it.support.Ports;
import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.TestBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the jar logs: the startup line and one access line per request, as text and as ECS JSON. */
class LoggingIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private JarProcess serve(TestBackend backend, int port, int adminPort, String format) throws IOException {
    Path config = Files.writeString(dir.resolve("lb-" + format + ".yaml"),
        "listen: { host: 127.0.0.1, port: " + port + ", workers: 1 }\n"
            + "admin: { host: 127.0.0.1, port: " + adminPort + " }\n"
            + "backends: [ \"" + backend.url() + "\" ]\n"
            + "logging: { access_log: true, format: " + format + " }\n");
    return JarProcess.start(dir, "serve", "-c", config.toString());
  }

  private static void request(int port, String target, String requestId) throws IOException {
    request(port, target, requestId, "");
  }

  private static void request(int port, String target, String requestId, String moreFields) throws IOException {
    try (RawHttpClient client = RawHttpClient.connect(port)) {
      client.send("GET " + target + " HTTP/1.1\r\nHost: logs\r\nX-Request-Id: " + requestId + "\r\n" + moreFields
          + "\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
  }

  @Test
  void textLogsHaveAStartupLineAndOneAccessLinePerRequest() throws Exception {
    int port = Ports.freePort();
    int adminPort = Ports.freePort();
    try (TestBackend backend = TestBackend.start("b1");
        JarProcess lb = serve(backend, port, adminPort, "text")) {
      JarIT.awaitStatus(lb, adminPort, "/readyz", 200);
      assertThat(lb.stdout().lines().filter(l -> l.contains("listening on")).toList()).singleElement()
          .asString()
          .contains("listening on 127.0.0.1:" + port)
          .contains("direct buffers unzeroed")
          .contains("admin on 127.0.0.1:" + adminPort)
          .contains(backend.url())
          .contains("round_robin");

      request(port, "/logged?x=1", "text-log-1");
      request(port, "/logged?x=2", "text-log-2", "User-Agent: curl/8.5.0 \"quoted\" \\x\r\n");
      await("two access lines").atMost(Duration.ofSeconds(10)).until(() -> accessLines(lb).size() == 2);
      String line = accessLines(lb).get(0);
      assertThat(line).matches("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) .*")
          .contains("127.0.0.1:")
          .contains("\"GET /logged?x=1 HTTP/1.1\" 200 2 ")
          .contains("backend=" + backend.url())
          .contains("attempts=1")
          .containsPattern(" upstream=[0-9.]+ms ")
          .contains(" ratelimit=- route=- upstream_name=default ")
          .endsWith(" id=text-log-1 host=logs ua=-");
      assertThat(accessLines(lb).get(1)).endsWith(" id=text-log-2 host=logs ua=\"curl/8.5.0 \\\"quoted\\\" \\\\x\"");
      lb.terminate();
      assertThat(lb.waitFor(Duration.ofSeconds(30))).isZero();
      lb.assertNoLeaks();
    }
  }

  private static List<String> accessLines(JarProcess lb) {
    return lb.stdout().lines().filter(l -> l.contains("\"GET /logged")).toList();
  }

  @Test
  void jsonLogsAreEcsLines() throws Exception {
    int port = Ports.freePort();
    int adminPort = Ports.freePort();
    try (TestBackend backend = TestBackend.start("b1");
        JarProcess lb = serve(backend, port, adminPort, "json")) {
      JarIT.awaitStatus(lb, adminPort, "/readyz", 200);
      request(port, "/json-logged", "json-log-1");
      await("the access line").atMost(Duration.ofSeconds(10))
          .until(() -> find(lb, "http.request.id", "json-log-1").isPresent());
      lb.terminate();
      assertThat(lb.waitFor(Duration.ofSeconds(30))).isZero();

      List<JsonNode> lines = jsonLines(lb);
      assertThat(lines).isNotEmpty();
      for (JsonNode line : lines) {
        assertThat(line.path("@timestamp").asText()).as("%s", line).isNotEmpty();
        assertThat(line.path("log.level").asText()).as("%s", line).isNotEmpty();
        assertThat(line.has("ecs.version")).as("%s", line).isTrue();
      }
      JsonNode startup = lines.stream().filter(l -> l.path("message").asText().contains("listening on"))
          .findFirst().orElseThrow();
      assertThat(startup.path("log.logger").asText()).isEqualTo("dev.lb.server.LbServer");

      JsonNode access = find(lb, "http.request.id", "json-log-1").orElseThrow();
      assertThat(access.path("log.logger").asText()).isEqualTo("lb.access");
      assertThat(access.path("event.dataset").asText()).isEqualTo("lb.access");
      assertThat(access.path("client.address").asText()).isEqualTo("127.0.0.1");
      assertThat(access.path("http.request.method").asText()).isEqualTo("GET");
      assertThat(access.path("url.original").asText()).isEqualTo("/json-logged");
      assertThat(access.path("http.version").asText()).isEqualTo("1.1");
      assertThat(access.path("http.response.status_code").asInt()).isEqualTo(200);
      assertThat(access.path("http.response.body.bytes").asLong()).isEqualTo(2);
      assertThat(access.path("event.duration").asLong()).isPositive();
      assertThat(access.path("event.outcome").asText()).isEqualTo("success");
      assertThat(access.path("lb.backend").asText()).isEqualTo(backend.url());
      assertThat(access.path("lb.attempts").asInt()).isEqualTo(1);
      assertThat(access.path("lb.upstream.duration").asLong()).isPositive();
      assertThat(access.path("lb.ratelimit").asText()).isEqualTo("-");
      assertThat(access.path("lb.route").asText()).isEqualTo("-");
      assertThat(access.path("lb.upstream.name").asText()).isEqualTo("default");
      assertThat(access.path("url.domain").asText()).isEqualTo("logs");
      assertThat(access.path("user_agent.original").asText()).isEqualTo("-");
      assertThat(access.has("error.message")).isFalse();
      lb.assertNoLeaks();
    }
  }

  /** Every line of standard output, each of which must be one JSON object. */
  private static List<JsonNode> jsonLines(JarProcess lb) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String line : lb.stdout().lines().filter(l -> !l.isBlank()).toList()) {
      JsonNode node = JSON.readTree(line);
      assertThat(node.isObject()).as("a JSON object: %s", line).isTrue();
      out.add(node);
    }
    return out;
  }

  private static Optional<JsonNode> find(JarProcess lb, String field, String value) throws IOException {
    return jsonLines(lb).stream().filter(n -> value.equals(n.path(field).asText())).findFirst();
  }
}
