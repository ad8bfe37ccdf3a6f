package dev.lb.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.config.AdminConfig;
import dev.lb.ratelimit.Limit;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The {@code /clients} API over real loopback sockets: the admin listener with the endpoint and a
 * {@link FakeClientLimits}, called with {@link HttpClient}. The 403 for callers off this host with no token set is
 * covered where the peer address can be chosen: {@code ClientsEndpointTest} and {@code AdminRequestHandlerTest}.
 */
class ClientsEndpointServerTest {
  private static final String TOKEN = "s3cret";

  private final ExecutorService blocking =
      Executors.newFixedThreadPool(
          2,
          task -> {
            Thread t = new Thread(task, "clients-test-blocking");
            t.setDaemon(true);
            return t;
          });
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  private final FakeClientLimits limits = new FakeClientLimits(Map.of("10.0.0.1", new Limit(50, 5)));
  private @Nullable AdminServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    blocking.shutdownNow();
  }

  @Test
  void createReadUpdateDeleteWithTheToken() throws Exception {
    start(TOKEN);
    String auth = "Bearer " + TOKEN;

    HttpResponse<String> created =
        send("POST", "/clients", "{\"client_id\":\"user/1\",\"capacity\":100,\"rate_per_sec\":10}", auth);
    assertThat(created.statusCode()).isEqualTo(201);
    assertThat(created.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(created.headers().firstValue("location")).hasValue("/clients/user%2F1");
    assertThat(created.body())
        .isEqualTo("{\"client_id\":\"user/1\",\"capacity\":100,\"rate_per_sec\":10.0,\"source\":\"api\"}");

    HttpResponse<String> again =
        send("POST", "/clients", "{\"client_id\":\"user/1\",\"capacity\":1,\"rate_per_sec\":1}", auth);
    assertThat(again.statusCode()).isEqualTo(409);

    HttpResponse<String> one = send("GET", "/clients/user%2F1", null, auth);
    assertThat(one.statusCode()).isEqualTo(200);
    assertThat(one.body()).isEqualTo(created.body());

    HttpResponse<String> all = send("GET", "/clients", null, auth);
    assertThat(all.statusCode()).isEqualTo(200);
    assertThat(all.body())
        .isEqualTo(
            "[{\"client_id\":\"10.0.0.1\",\"capacity\":50,\"rate_per_sec\":5.0,\"source\":\"config\"},"
                + "{\"client_id\":\"user/1\",\"capacity\":100,\"rate_per_sec\":10.0,\"source\":\"api\"}]");

    HttpResponse<String> replaced = send("PUT", "/clients/user%2F1", "{\"capacity\":20,\"rate_per_sec\":0.5}", auth);
    assertThat(replaced.statusCode()).isEqualTo(200);
    assertThat(replaced.body())
        .isEqualTo("{\"client_id\":\"user/1\",\"capacity\":20,\"rate_per_sec\":0.5,\"source\":\"api\"}");

    HttpResponse<String> createdByPut = send("PUT", "/clients/0:0:0:0:0:0:0:1", "{\"capacity\":5,\"rate_per_sec\":1}",
        auth);
    assertThat(createdByPut.statusCode()).isEqualTo(201);
    assertThat(createdByPut.headers().firstValue("location")).hasValue("/clients/%3A%3A1");
    assertThat(createdByPut.body()).contains("\"client_id\":\"::1\"");

    HttpResponse<String> invalid = send("PUT", "/clients/user%2F1", "{\"capacity\":\"10\",\"rate_per_sec\":1}", auth);
    assertThat(invalid.statusCode()).isEqualTo(400);
    assertThat(invalid.body())
        .isEqualTo("{\"code\":400,\"message\":\"capacity: \\\"10\\\" (expected: an integer from 1 to 1000000000)\"}");

    HttpResponse<String> deleted = send("DELETE", "/clients/user%2F1", null, auth);
    assertThat(deleted.statusCode()).isEqualTo(204);
    assertThat(deleted.body()).isEmpty();
    assertThat(send("DELETE", "/clients/user%2F1", null, auth).statusCode()).isEqualTo(404);
    assertThat(send("GET", "/clients/user%2F1", null, auth).statusCode()).isEqualTo(404);
    assertThat(send("DELETE", "/clients/10.0.0.1", null, auth).statusCode()).isEqualTo(404);
    assertThat(limits.apiEntries()).containsOnlyKeys("::1");
  }

  @Test
  void withATokenAMissingOrWrongOneIs401() throws Exception {
    start(TOKEN);

    for (String auth : new String[] {null, "Bearer wrong", "Basic czNjcmV0", TOKEN}) {
      HttpResponse<String> list = send("GET", "/clients", null, auth);
      HttpResponse<String> post =
          send("POST", "/clients", "{\"client_id\":\"u\",\"capacity\":1,\"rate_per_sec\":1}", auth);
      HttpResponse<String> delete = send("DELETE", "/clients/u", null, auth);
      for (HttpResponse<String> response : List.of(list, post, delete)) {
        assertThat(response.statusCode()).as(String.valueOf(auth)).isEqualTo(401);
        assertThat(response.headers().firstValue("www-authenticate")).hasValue("Bearer");
        assertThat(response.body()).isEqualTo("{\"code\":401,\"message\":\"Unauthorized\"}");
      }
    }
    assertThat(limits.writtenIds()).isEmpty();
    assertThat(send("GET", "/clients", null, "Bearer " + TOKEN).statusCode()).isEqualTo(200);
  }

  @Test
  void withoutATokenALoopbackCallerGetsIn() throws Exception {
    start("");

    HttpResponse<String> created =
        send("POST", "/clients", "{\"client_id\":\"user1\",\"capacity\":3,\"rate_per_sec\":1}", null);
    HttpResponse<String> list = send("GET", "/clients", null, null);

    assertThat(created.statusCode()).isEqualTo(201);
    assertThat(list.statusCode()).isEqualTo(200);
    assertThat(list.body()).contains("\"client_id\":\"user1\"");
  }

  @Test
  void aStoreOutageIs503() throws Exception {
    start("");
    limits.storeDown("connection refused");

    HttpResponse<String> response =
        send("POST", "/clients", "{\"client_id\":\"user1\",\"capacity\":3,\"rate_per_sec\":1}", null);

    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.body()).isEqualTo("{\"code\":503,\"message\":\"Store unavailable: connection refused\"}");
  }

  private void start(String token) {
    AdminRouter router = ClientsEndpoint.register(AdminRouter.builder(), limits).build();
    server = AdminServer.start(new AdminConfig("127.0.0.1", 0, token), router, blocking);
  }

  private HttpResponse<String> send(String method, String path, @Nullable String body, @Nullable String authorization)
      throws Exception {
    AdminServer running = server;
    assertThat(running).isNotNull();
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + running.localAddress().getPort() + path))
            .timeout(Duration.ofSeconds(10))
            .method(method, body == null ? BodyPublishers.noBody() : BodyPublishers.ofString(body));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    return http.send(request.build(), BodyHandlers.ofString());
  }
}
