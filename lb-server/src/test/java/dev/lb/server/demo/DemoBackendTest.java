package dev.lb.server.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lb.server.testing.RawHttp;
import dev.lb.transport.Transport;
import io.netty.channel.EventLoopGroup;
import java.io.ByteArrayInputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Demo backends over real loopback sockets, two sharing one event loop group as {@code lb demo} runs them. */
class DemoBackendTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static EventLoopGroup group;

  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  private DemoBackend backend;
  private DemoBackend other;

  @BeforeAll
  static void startGroup() {
    group = Transport.detect().newGroup(2, "demo-test");
  }

  @AfterAll
  static void stopGroup() {
    group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
  }

  @BeforeEach
  void start() {
    backend = DemoBackend.start("127.0.0.1", 0, "alpha", group);
    other = DemoBackend.start("127.0.0.1", 0, "beta", group);
  }

  @AfterEach
  void stop() {
    backend.close();
    other.close();
  }

  @Test
  void answersWithJsonNamingItself() throws Exception {
    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(uri(backend, "/x?y=1")).header("X-Test", "hello").build(), BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(response.headers().firstValue("content-length"))
        .hasValue(String.valueOf(response.body().getBytes(java.nio.charset.StandardCharsets.UTF_8).length));
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.get("backend").asText()).isEqualTo("alpha");
    assertThat(body.get("method").asText()).isEqualTo("GET");
    assertThat(body.get("path").asText()).isEqualTo("/x?y=1");
    assertThat(body.get("headers").get("host").asText()).isEqualTo("127.0.0.1:" + backend.localAddress().getPort());
    assertThat(body.get("headers").get("x-test").asText()).isEqualTo("hello");
    assertThat(body.get("body_bytes").asLong()).isZero();
    assertThat(JSON.readTree(get(other, "/").body()).get("backend").asText()).isEqualTo("beta");
  }

  @Test
  void healthIsUp() throws Exception {
    HttpResponse<String> response = get(backend, "/health");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("{\"status\":\"UP\"}");
  }

  @Test
  void countsAChunkedUploadOfOneMebibyte() throws Exception {
    byte[] upload = new byte[1024 * 1024];
    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(uri(backend, "/upload"))
                .POST(BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(upload)))
                .build(),
            BodyHandlers.ofString());

    JsonNode body = JSON.readTree(response.body());
    assertThat(body.get("headers").get("transfer-encoding").asText()).isEqualTo("chunked");
    assertThat(body.get("method").asText()).isEqualTo("POST");
    assertThat(body.get("body_bytes").asLong()).isEqualTo(1024 * 1024);
  }

  @Test
  void countsAFixedLengthBody() throws Exception {
    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(uri(backend, "/put")).PUT(BodyPublishers.ofString("twelve bytes")).build(),
            BodyHandlers.ofString());

    assertThat(JSON.readTree(response.body()).get("body_bytes").asLong()).isEqualTo(12);
  }

  @Test
  void joinsRepeatedHeaders() throws Exception {
    try (RawHttp http = new RawHttp(backend.localAddress())) {
      http.send("GET / HTTP/1.1\r\nHost: h\r\nX-Multi: a\r\nX-Multi: b\r\n\r\n");

      assertThat(JSON.readTree(http.read().body()).get("headers").get("x-multi").asText()).isEqualTo("a, b");
    }
  }

  @Test
  void http11KeepsTheConnectionUntilClose() throws Exception {
    try (RawHttp http = new RawHttp(backend.localAddress())) {
      http.send("GET /one HTTP/1.1\r\nHost: h\r\n\r\n");
      RawHttp.Response one = http.read();
      http.send("GET /two HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
      RawHttp.Response two = http.read();

      assertThat(JSON.readTree(one.body()).get("path").asText()).isEqualTo("/one");
      assertThat(one.header("connection")).isNull();
      assertThat(JSON.readTree(two.body()).get("path").asText()).isEqualTo("/two");
      assertThat(two.header("connection")).isEqualTo("close");
      assertThat(http.closedByPeer()).isTrue();
    }
  }

  @Test
  void http10KeepsTheConnectionOnlyWhenAsked() throws Exception {
    try (RawHttp http = new RawHttp(backend.localAddress())) {
      http.send("GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      RawHttp.Response one = http.read();
      http.send("GET /two HTTP/1.0\r\n\r\n");
      RawHttp.Response two = http.read();

      assertThat(one.statusLine()).startsWith("HTTP/1.0 200");
      assertThat(one.header("connection")).isEqualToIgnoringCase("keep-alive");
      assertThat(JSON.readTree(two.body()).get("path").asText()).isEqualTo("/two");
      assertThat(http.closedByPeer()).isTrue();
    }
  }

  @Test
  void expectContinueGets100ThenTheAnswer() throws Exception {
    try (RawHttp http = new RawHttp(backend.localAddress())) {
      http.send("POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
      RawHttp.Response interim = http.read();
      http.send("hello");
      RawHttp.Response answer = http.read();

      assertThat(interim.status()).isEqualTo(100);
      assertThat(answer.status()).isEqualTo(200);
      assertThat(JSON.readTree(answer.body()).get("body_bytes").asLong()).isEqualTo(5);
    }
  }

  @Test
  void closeStopsListeningAndClosesOpenConnections() throws Exception {
    try (RawHttp http = new RawHttp(backend.localAddress())) {
      http.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
      http.read();

      backend.close();

      assertThat(http.closedByPeer()).isTrue();
    }
    int port = backend.localAddress().getPort();
    assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class);
    assertThat(get(other, "/").statusCode()).as("the shared group still serves the other").isEqualTo(200);
  }

  @Test
  void aTakenPortIsAClearError() {
    int port = backend.localAddress().getPort();

    assertThatThrownBy(() -> DemoBackend.start("127.0.0.1", port, "gamma", group))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("demo backend gamma: cannot bind 127.0.0.1:" + port + ": ");
  }

  private HttpResponse<String> get(DemoBackend target, String path) throws Exception {
    return client.send(HttpRequest.newBuilder(uri(target, path)).build(), BodyHandlers.ofString());
  }

  private static URI uri(DemoBackend target, String path) {
    return URI.create("http://127.0.0.1:" + target.localAddress().getPort() + path);
  }
}
