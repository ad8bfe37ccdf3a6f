package dev.lb.server.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lb.config.AdminConfig;
import dev.lb.server.testing.LogCapture;
import dev.lb.server.testing.RawHttp;
import io.netty.handler.codec.http.HttpMethod;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The admin listener over real loopback sockets. */
class AdminServerTest {
  private final AtomicInteger blockingThreads = new AtomicInteger();
  private final ExecutorService blocking =
      Executors.newFixedThreadPool(
          2,
          task -> {
            Thread t = new Thread(task, "admin-blocking-" + blockingThreads.incrementAndGet());
            t.setDaemon(true);
            return t;
          });
  private final Readiness readiness = new Readiness();
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  private AdminServer server;

  @BeforeEach
  void start() {
    AdminRouter router =
        HealthEndpoints.register(AdminRouter.builder(), readiness)
            .route(HttpMethod.GET, "/thread", Access.OPEN, r -> threadName())
            .routeBlocking(HttpMethod.GET, "/blocking-thread", Access.OPEN, r -> threadName().join())
            .route(HttpMethod.GET, "/peer", Access.OPEN,
                r -> CompletableFuture.completedFuture(
                    AdminResponse.json(200, Map.of("port", ((InetSocketAddress) r.remoteAddress()).getPort()))))
            .route(HttpMethod.POST, "/len", Access.OPEN,
                r -> CompletableFuture.completedFuture(AdminResponse.json(200, Map.of("length", r.bodyLength()))))
            .route(HttpMethod.GET, "/secret", Access.MANAGEMENT,
                r -> CompletableFuture.completedFuture(AdminResponse.json(200, "{}")))
            .route(HttpMethod.GET, "/page", Access.BROWSER,
                r -> CompletableFuture.completedFuture(AdminResponse.json(200, "{}")))
            .build();
    server = AdminServer.start(new AdminConfig("127.0.0.1", 0, "s3cret"), router, blocking);
  }

  @AfterEach
  void stop() {
    server.close();
    blocking.shutdownNow();
  }

  @Test
  void bindsAFreePortOnTheGivenHost() {
    assertThat(server.localAddress().getAddress().getHostAddress()).isEqualTo("127.0.0.1");
    assertThat(server.localAddress().getPort()).isPositive();
  }

  @Test
  void healthzIsUp() throws Exception {
    HttpResponse<String> response = get("/healthz");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("{\"status\":\"UP\"}");
    assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(response.headers().firstValue("content-length")).hasValue("15");
  }

  @Test
  void readyzTurns503WhenDraining() throws Exception {
    HttpResponse<String> before = get("/readyz");
    readiness.markDraining();
    HttpResponse<String> after = get("/readyz");

    assertThat(before.statusCode()).isEqualTo(200);
    assertThat(before.body()).isEqualTo("{\"status\":\"READY\"}");
    assertThat(after.statusCode()).isEqualTo(503);
    assertThat(after.body()).isEqualTo("{\"status\":\"DRAINING\"}");
    assertThat(get("/healthz").statusCode()).as("still alive").isEqualTo(200);
  }

  @Test
  void keepAliveReusesTheConnection() throws Exception {
    String first = get("/peer").body();
    String second = get("/peer").body();
    String third = get("/peer").body();

    assertThat(second).isEqualTo(first);
    assertThat(third).isEqualTo(first);
  }

  @Test
  void handlersRunOnTheAdminLoopAndBlockingOnesOffIt() throws Exception {
    assertThat(get("/thread").body()).startsWith("{\"thread\":\"lb-admin-");
    assertThat(get("/blocking-thread").body()).startsWith("{\"thread\":\"admin-blocking-");
  }

  @Test
  void headAnswersWithoutBody() throws Exception {
    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(uri("/healthz")).method("HEAD", BodyPublishers.noBody()).build(),
            BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEmpty();
    assertThat(response.headers().firstValue("content-length")).hasValue("15");
  }

  @Test
  void managementRoutesNeedTheToken() throws Exception {
    HttpResponse<String> without = get("/secret");
    HttpResponse<String> with =
        client.send(
            HttpRequest.newBuilder(uri("/secret")).header("Authorization", "Bearer s3cret").build(),
            BodyHandlers.ofString());

    assertThat(without.statusCode()).isEqualTo(401);
    assertThat(without.headers().firstValue("www-authenticate")).hasValue("Bearer");
    assertThat(with.statusCode()).isEqualTo(200);
  }

  @Test
  void browserRoutesAskForBasicCredentialsAndTakeTheTokenAsPassword() throws Exception {
    HttpResponse<String> without = get("/page");
    HttpResponse<String> basic = getWith("/page", "Basic " + base64("anyone:s3cret"));
    HttpResponse<String> wrong = getWith("/page", "Basic " + base64("anyone:nope"));
    HttpResponse<String> bearer = getWith("/page", "Bearer s3cret");
    HttpResponse<String> basicOnManagement = getWith("/secret", "Basic " + base64("anyone:s3cret"));

    assertThat(without.statusCode()).isEqualTo(401);
    assertThat(without.headers().firstValue("www-authenticate")).hasValue("Basic realm=\"lb admin\", charset=\"UTF-8\"");
    assertThat(basic.statusCode()).isEqualTo(200);
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(bearer.statusCode()).isEqualTo(200);
    assertThat(basicOnManagement.statusCode()).as("Basic is for the browser's page only").isEqualTo(401);
  }

  private HttpResponse<String> getWith(String path, String authorization) throws Exception {
    return client.send(HttpRequest.newBuilder(uri(path)).header("Authorization", authorization).build(),
        BodyHandlers.ofString());
  }

  private static String base64(String s) {
    return java.util.Base64.getEncoder().encodeToString(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  @Test
  void bodiesOverTheLimitAre413() throws Exception {
    HttpResponse<String> small = post("/len", new byte[1000]);
    HttpResponse<String> large = post("/len", new byte[AdminAggregator.MAX_BODY_BYTES + 1]);

    assertThat(small.body()).isEqualTo("{\"length\":1000}");
    assertThat(large.statusCode()).isEqualTo(413);
    assertThat(large.body()).isEqualTo("{\"code\":413,\"message\":\"Payload too large\"}");
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrder() throws IOException {
    try (RawHttp http = new RawHttp(server.localAddress())) {
      http.send("GET /blocking-thread HTTP/1.1\r\nHost: a\r\n\r\nGET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
          + "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n");

      assertThat(http.read().body()).startsWith("{\"thread\":\"admin-blocking-");
      assertThat(http.read().body()).isEqualTo("{\"status\":\"UP\"}");
      assertThat(http.read().status()).isEqualTo(404);
    }
  }

  @Test
  void aMalformedRequestIs400AndTheConnectionCloses() throws IOException {
    try (RawHttp http = new RawHttp(server.localAddress())) {
      http.send("GET /healthz HTTP/1.1\r\nHost : a\r\n\r\n");

      RawHttp.Response response = http.read();
      assertThat(response.status()).isEqualTo(400);
      assertThat(response.body()).isEqualTo("{\"code\":400,\"message\":\"Bad request\"}");
      assertThat(http.closedByPeer()).isTrue();
    }
  }

  @Test
  void closeReleasesThePortAndRefusesToBindTwice() {
    AdminConfig same = new AdminConfig("127.0.0.1", server.localAddress().getPort(), "");
    assertThatThrownBy(() -> AdminServer.start(same, AdminRouter.builder().build(), blocking))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("admin listener: cannot bind 127.0.0.1:" + same.port() + ": ");

    server.close();

    assertThatThrownBy(() -> new Socket("127.0.0.1", same.port()).close()).isInstanceOf(ConnectException.class);
    server.close(); // idempotent
  }

  private static CompletableFuture<AdminResponse> threadName() {
    return CompletableFuture.completedFuture(
        AdminResponse.json(200, Map.of("thread", Thread.currentThread().getName())));
  }

  @Test
  void everyWriteLeavesOneAuditLineReadsNone() throws Exception {
    try (LogCapture log = LogCapture.of(Audit.class, Level.INFO)) {
      get("/secret");
      post("/len", new byte[3]);
      post("/secret", new byte[0]);
      client.send(HttpRequest.newBuilder(uri("/nowhere")).header("Authorization", "Bearer wrong")
          .DELETE().build(), BodyHandlers.ofString());

      assertThat(log.events()).extracting(e -> e.getMessage().getFormattedMessage()).containsExactly(
          "admin POST /len from 127.0.0.1 without a token: 200",
          "admin POST /secret from 127.0.0.1 without a token: 405 (Method not allowed)",
          "admin DELETE /nowhere from 127.0.0.1 with a token: 404 (Not found)");
    }
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.localAddress().getPort() + path);
  }

  private HttpResponse<String> get(String path) throws Exception {
    return client.send(HttpRequest.newBuilder(uri(path)).build(), BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String path, byte[] body) throws Exception {
    return client.send(
        HttpRequest.newBuilder(uri(path)).POST(BodyPublishers.ofByteArray(body)).build(), BodyHandlers.ofString());
  }
}
