package dev.lb.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lb.ratelimit.Limit;
import dev.lb.server.limits.StoreUnavailableException;
import dev.lb.server.testing.LogCapture;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.Map;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.LogEvent;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * The {@code /clients} routes through the admin dispatcher (routing, access, path decoding, the handlers), with
 * blocking handlers run in place and an in-memory {@link FakeClientLimits}.
 */
class ClientsEndpointTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 40_000);
  private static final SocketAddress REMOTE = new InetSocketAddress("10.1.2.3", 40_000);

  /** Configuration entries: one that the API never touches, one the API overrides in some tests. */
  private final FakeClientLimits limits =
      new FakeClientLimits(Map.of("10.0.0.1", new Limit(50, 5), "user2", new Limit(20, 2)));

  private final AdminDispatcher dispatcher = dispatcher("", limits);

  // ---- GET /clients ----

  @Test
  void listsEveryClientSortedByIdWithItsSource() {
    limits.putApi("user1", new Limit(100, 0.5));
    limits.putApi("user2", new Limit(30, 3));

    AdminResponse response = call(HttpMethod.GET, "/clients", null);

    assertThat(response.status()).isEqualTo(200);
    assertThat(response.contentType()).isEqualTo("application/json");
    assertThat(response.bodyText())
        .isEqualTo(
            "[{\"client_id\":\"10.0.0.1\",\"capacity\":50,\"rate_per_sec\":5.0,\"source\":\"config\"},"
                + "{\"client_id\":\"user1\",\"capacity\":100,\"rate_per_sec\":0.5,\"source\":\"api\"},"
                + "{\"client_id\":\"user2\",\"capacity\":30,\"rate_per_sec\":3.0,\"source\":\"api\"}]");
    JsonNode first = json(response).get(0);
    assertThat(first.get("capacity").isIntegralNumber()).isTrue();
    assertThat(first.get("rate_per_sec").isNumber()).isTrue();
    assertThat(first.get("client_id").isTextual()).isTrue();
    assertThat(first.get("source").isTextual()).isTrue();
  }

  @Test
  void listsNothingAsAnEmptyArray() {
    AdminDispatcher empty = dispatcher("", new FakeClientLimits(Map.of()));

    AdminResponse response = call(empty, HttpMethod.GET, "/clients", null, LOOPBACK);

    assertThat(response.status()).isEqualTo(200);
    assertThat(response.bodyText()).isEqualTo("[]");
  }

  // ---- GET /clients/{client_id} ----

  @Test
  void getsOneClient() {
    AdminResponse response = call(HttpMethod.GET, "/clients/user2", null);

    assertThat(response.status()).isEqualTo(200);
    assertThat(response.bodyText())
        .isEqualTo("{\"client_id\":\"user2\",\"capacity\":20,\"rate_per_sec\":2.0,\"source\":\"config\"}");
  }

  @Test
  void anUnknownClientIs404() {
    AdminResponse response = call(HttpMethod.GET, "/clients/nobody", null);

    assertThat(response.status()).isEqualTo(404);
    assertThat(response.bodyText())
        .isEqualTo("{\"code\":404,\"message\":\"Unknown client: nobody (only the default limit applies to it)\"}");
  }

  // ---- POST /clients ----

  @Test
  void createsAClient() {
    AdminResponse response =
        call(HttpMethod.POST, "/clients", "{\"client_id\":\"user1\",\"capacity\":100,\"rate_per_sec\":10}");

    assertThat(response.status()).isEqualTo(201);
    assertThat(response.contentType()).isEqualTo("application/json");
    assertThat(response.bodyText())
        .isEqualTo("{\"client_id\":\"user1\",\"capacity\":100,\"rate_per_sec\":10.0,\"source\":\"api\"}");
    assertThat(response.headers()).containsEntry(HttpHeaderNames.LOCATION.toString(), "/clients/user1");
    assertThat(limits.apiEntries()).containsExactly(Map.entry("user1", new Limit(100, 10)));
    assertThat(call(HttpMethod.GET, "/clients/user1", null).bodyText()).isEqualTo(response.bodyText());
  }

  @Test
  void keepsAFractionalRate() {
    AdminResponse response =
        call(HttpMethod.POST, "/clients", "{\"client_id\":\"slow\",\"capacity\":1,\"rate_per_sec\":0.25}");

    assertThat(response.status()).isEqualTo(201);
    assertThat(json(response).get("rate_per_sec").doubleValue()).isEqualTo(0.25);
    assertThat(json(response).get("capacity").isIntegralNumber()).isTrue();
  }

  @Test
  void creatingAClientWithAnApiEntryIs409AndChangesNothing() {
    limits.putApi("user1", new Limit(5, 1));

    AdminResponse response =
        call(HttpMethod.POST, "/clients", "{\"client_id\":\"user1\",\"capacity\":100,\"rate_per_sec\":10}");

    assertThat(response.status()).isEqualTo(409);
    assertThat(response.bodyText())
        .isEqualTo(
            "{\"code\":409,\"message\":\"Client already exists: user1 (change it with PUT /clients/user1)\"}");
    assertThat(limits.apiEntries()).containsExactly(Map.entry("user1", new Limit(5, 1)));
  }

  @Test
  void aClientWithOnlyAConfigurationEntryCanBeCreatedAndTheApiEntryOverridesIt() {
    AdminResponse response =
        call(HttpMethod.POST, "/clients", "{\"client_id\":\"user2\",\"capacity\":99,\"rate_per_sec\":9}");

    assertThat(response.status()).isEqualTo(201);
    assertThat(json(response).get("source").asText()).isEqualTo("api");
    assertThat(call(HttpMethod.GET, "/clients/user2", null).bodyText())
        .isEqualTo("{\"client_id\":\"user2\",\"capacity\":99,\"rate_per_sec\":9.0,\"source\":\"api\"}");
  }

  @Test
  void aBadCreateBodyIs400NamingTheFieldsAndWritesNothing() {
    AdminResponse response =
        call(HttpMethod.POST, "/clients", "{\"client_id\":\"u\",\"capacity\":1.5,\"rate_per_sec\":\"fast\"}");

    assertThat(response.status()).isEqualTo(400);
    assertThat(response.bodyText())
        .isEqualTo(
            "{\"code\":400,\"message\":\"capacity: 1.5 (expected: an integer from 1 to 1000000000); "
                + "rate_per_sec: \\\"fast\\\" (expected: a number above 0)\"}");
    assertThat(limits.writtenIds()).isEmpty();
  }

  @Test
  void malformedOrEmptyJsonIs400() {
    AdminResponse malformed = call(HttpMethod.POST, "/clients", "{\"client_id\":");
    AdminResponse empty = call(HttpMethod.POST, "/clients", "");
    AdminResponse duplicate =
        call(HttpMethod.POST, "/clients", "{\"client_id\":\"a\",\"client_id\":\"b\",\"capacity\":1,\"rate_per_sec\":1}");

    assertThat(malformed.status()).isEqualTo(400);
    assertThat(json(malformed).get("message").asText()).startsWith("Malformed JSON");
    assertThat(empty.bodyText()).isEqualTo("{\"code\":400,\"message\":\"Request body must be a JSON document\"}");
    assertThat(json(duplicate).get("message").asText()).startsWith("Malformed JSON");
    assertThat(limits.writtenIds()).isEmpty();
  }

  // ---- PUT /clients/{client_id} ----

  @Test
  void putCreatesWith201AndReplacesWith200() {
    AdminResponse created = call(HttpMethod.PUT, "/clients/user1", "{\"capacity\":10,\"rate_per_sec\":1}");
    AdminResponse replaced = call(HttpMethod.PUT, "/clients/user1", "{\"capacity\":20,\"rate_per_sec\":2.5}");

    assertThat(created.status()).isEqualTo(201);
    assertThat(created.bodyText())
        .isEqualTo("{\"client_id\":\"user1\",\"capacity\":10,\"rate_per_sec\":1.0,\"source\":\"api\"}");
    assertThat(created.headers()).containsEntry("location", "/clients/user1");
    assertThat(replaced.status()).isEqualTo(200);
    assertThat(replaced.bodyText())
        .isEqualTo("{\"client_id\":\"user1\",\"capacity\":20,\"rate_per_sec\":2.5,\"source\":\"api\"}");
    assertThat(replaced.headers()).doesNotContainKey("location");
    assertThat(limits.apiEntries()).containsExactly(Map.entry("user1", new Limit(20, 2.5)));
  }

  @Test
  void putOverAConfigurationEntryCreatesAnApiEntry() {
    AdminResponse response = call(HttpMethod.PUT, "/clients/user2", "{\"capacity\":7,\"rate_per_sec\":7}");

    assertThat(response.status()).isEqualTo(201);
    assertThat(json(response).get("source").asText()).isEqualTo("api");
  }

  @Test
  void putAcceptsTheSameClientIdInTheBodyOnly() {
    AdminResponse same =
        call(HttpMethod.PUT, "/clients/user1", "{\"client_id\":\"user1\",\"capacity\":10,\"rate_per_sec\":1}");
    AdminResponse other =
        call(HttpMethod.PUT, "/clients/user1", "{\"client_id\":\"user9\",\"capacity\":10,\"rate_per_sec\":1}");

    assertThat(same.status()).isEqualTo(201);
    assertThat(other.status()).isEqualTo(400);
    assertThat(json(other).get("message").asText())
        .isEqualTo("client_id: \"user9\" (expected: the client id of the path, \"user1\")");
    assertThat(limits.apiEntries()).containsOnlyKeys("user1");
  }

  @Test
  void aBadPutBodyIs400NamingTheFields() {
    AdminResponse response = call(HttpMethod.PUT, "/clients/user1", "{\"capacity\":0,\"burst\":5}");

    assertThat(response.status()).isEqualTo(400);
    assertThat(json(response).get("code").asInt()).isEqualTo(400);
    assertThat(json(response).get("message").asText())
        .isEqualTo("capacity: 0 (expected: an integer from 1 to 1000000000); "
            + "burst: 5 (expected: one of client_id, capacity, rate_per_sec); "
            + "rate_per_sec: (missing) (expected: a number above 0)");
    assertThat(limits.writtenIds()).isEmpty();
  }

  // ---- DELETE /clients/{client_id} ----

  @Test
  void deletesAnApiEntry() {
    limits.putApi("user1", new Limit(5, 1));

    AdminResponse response = call(HttpMethod.DELETE, "/clients/user1", null);

    assertThat(response.status()).isEqualTo(204);
    assertThat(response.bodyText()).isEmpty();
    assertThat(response.contentType()).isNull();
    assertThat(call(HttpMethod.GET, "/clients/user1", null).status()).isEqualTo(404);
  }

  @Test
  void deletingAnApiEntryBringsBackTheConfigurationEntry() {
    limits.putApi("user2", new Limit(99, 9));

    assertThat(call(HttpMethod.DELETE, "/clients/user2", null).status()).isEqualTo(204);

    assertThat(call(HttpMethod.GET, "/clients/user2", null).bodyText())
        .isEqualTo("{\"client_id\":\"user2\",\"capacity\":20,\"rate_per_sec\":2.0,\"source\":\"config\"}");
  }

  @Test
  void deletingAnUnknownClientIs404() {
    AdminResponse response = call(HttpMethod.DELETE, "/clients/nobody", null);

    assertThat(response.status()).isEqualTo(404);
    assertThat(response.bodyText())
        .isEqualTo("{\"code\":404,\"message\":\"Unknown client: nobody (it has no entry set through the API)\"}");
  }

  @Test
  void aClientSetOnlyInTheConfigurationCannotBeDeleted() {
    AdminResponse response = call(HttpMethod.DELETE, "/clients/user2", null);

    assertThat(response.status()).isEqualTo(404);
    assertThat(json(response).get("message").asText())
        .isEqualTo("Client user2 is set in the configuration (rate_limit.clients), which the API cannot delete");
    assertThat(call(HttpMethod.GET, "/clients/user2", null).status()).isEqualTo(200);
  }

  // ---- client ids ----

  @Test
  void idsArePercentDecodedFromThePathAndEncodedInTheLocation() {
    Map<String, String> encodings =
        Map.of("user/1", "/clients/user%2F1", "john doe", "/clients/john%20doe", "a@b.c", "/clients/a%40b.c",
            "été+x", "/clients/%C3%A9t%C3%A9%2Bx");
    encodings.forEach((id, location) -> {
      AdminResponse created =
          call(HttpMethod.POST, "/clients",
              "{\"client_id\":\"" + id + "\",\"capacity\":3,\"rate_per_sec\":1}");
      assertThat(created.status()).as(id).isEqualTo(201);
      assertThat(created.headers()).as(id).containsEntry("location", location);
      assertThat(json(created).get("client_id").asText()).isEqualTo(id);

      AdminResponse got = call(HttpMethod.GET, location, null);
      assertThat(got.status()).as(location).isEqualTo(200);
      assertThat(json(got).get("client_id").asText()).isEqualTo(id);
    });
    assertThat(call(HttpMethod.PUT, "/clients/user%2F1", "{\"capacity\":4,\"rate_per_sec\":1}").status())
        .isEqualTo(200);
    assertThat(call(HttpMethod.DELETE, "/clients/john%20doe", null).status()).isEqualTo(204);
    assertThat(call(HttpMethod.DELETE, "/clients/a%40b.c", null).status()).isEqualTo(204);
    assertThat(limits.apiEntries()).containsOnlyKeys("user/1", "été+x");
    assertThat(limits.apiEntries().get("user/1")).isEqualTo(new Limit(4, 1));
  }

  @Test
  void ipIdsAreNormalisedInEveryCallAndAnswer() {
    AdminResponse created =
        call(HttpMethod.POST, "/clients", "{\"client_id\":\"0:0:0:0:0:0:0:1\",\"capacity\":3,\"rate_per_sec\":1}");

    assertThat(created.status()).isEqualTo(201);
    assertThat(json(created).get("client_id").asText()).isEqualTo("::1");
    assertThat(created.headers()).containsEntry("location", "/clients/%3A%3A1");
    for (String path : List.of("/clients/%3A%3A1", "/clients/::1", "/clients/0:0:0:0:0:0:0:1",
        "/clients/0%3A0%3A0%3A0%3A0%3A0%3A0%3A1")) {
      AdminResponse got = call(HttpMethod.GET, path, null);
      assertThat(got.status()).as(path).isEqualTo(200);
      assertThat(json(got).get("client_id").asText()).as(path).isEqualTo("::1");
    }
    assertThat(call(HttpMethod.POST, "/clients", "{\"client_id\":\"::1\",\"capacity\":3,\"rate_per_sec\":1}").status())
        .as("the same client")
        .isEqualTo(409);
    AdminResponse replaced = call(HttpMethod.PUT, "/clients/0:0:0:0:0:0:0:1", "{\"capacity\":8,\"rate_per_sec\":1}");
    assertThat(replaced.status()).isEqualTo(200);
    assertThat(json(replaced).get("client_id").asText()).isEqualTo("::1");
    assertThat(json(call(HttpMethod.GET, "/clients/::ffff:10.0.0.1", null)).get("client_id").asText())
        .isEqualTo("10.0.0.1");
    assertThat(call(HttpMethod.DELETE, "/clients/0:0:0:0:0:0:0:1", null).status()).isEqualTo(204);
    assertThat(limits.writtenIds()).containsExactly("::1", "::1", "::1", "::1");
    assertThat(limits.apiEntries()).isEmpty();
  }

  @Test
  void aTooLongPathIdIs400() {
    String path = "/clients/" + "x".repeat(513);
    String message =
        "client_id: \"" + "x".repeat(96) + "... (expected: a client id of 1 to 512 characters)";

    for (HttpMethod method : List.of(HttpMethod.GET, HttpMethod.DELETE)) {
      AdminResponse response = call(method, path, null);
      assertThat(response.status()).as(method.name()).isEqualTo(400);
      assertThat(json(response).get("message").asText()).isEqualTo(message);
    }
    AdminResponse put = call(HttpMethod.PUT, path, "{\"capacity\":1,\"rate_per_sec\":1}");
    assertThat(json(put).get("message").asText()).isEqualTo(message);
    assertThat(limits.writtenIds()).isEmpty();
  }

  @Test
  void aPathIdThatDoesNotDecodeIs400FromTheRouter() {
    AdminResponse response = call(HttpMethod.GET, "/clients/a%0Ab", null);

    assertThat(response.status()).isEqualTo(400);
    assertThat(response.bodyText()).isEqualTo("{\"code\":400,\"message\":\"Malformed path parameter: client_id\"}");
  }

  // ---- failures ----

  @Test
  void aWriteTheStoreCannotTakeIs503WithTheCauseOnOneLine() {
    limits.putApi("user1", new Limit(5, 1));
    limits.storeDown("Connection to db:5432 refused.\n  Check that the hostname and port are correct");
    String expected =
        "{\"code\":503,\"message\":\"Store unavailable: Connection to db:5432 refused. "
            + "Check that the hostname and port are correct\"}";

    List<LogEvent> events;
    try (LogCapture log = LogCapture.of(ClientsEndpoint.class)) {
      AdminResponse post =
          call(HttpMethod.POST, "/clients", "{\"client_id\":\"u\",\"capacity\":3,\"rate_per_sec\":1}");
      AdminResponse put = call(HttpMethod.PUT, "/clients/user1", "{\"capacity\":3,\"rate_per_sec\":1}");
      AdminResponse delete = call(HttpMethod.DELETE, "/clients/user1", null);
      for (AdminResponse response : List.of(post, put, delete)) {
        assertThat(response.status()).isEqualTo(503);
        assertThat(response.bodyText()).isEqualTo(expected);
      }
      events = log.events();
    }

    assertThat(events).hasSize(3).allSatisfy(e -> {
      assertThat(e.getLevel()).isEqualTo(Level.WARN);
      assertThat(e.getThrown()).isNull();
    });
    assertThat(call(HttpMethod.GET, "/clients/user1", null).status()).as("reads still work").isEqualTo(200);
    assertThat(limits.apiEntries()).containsExactly(Map.entry("user1", new Limit(5, 1)));
  }

  @Test
  void theCauseOfA503IsOneShortLine() {
    assertThat(ClientsEndpoint.cause(new StoreUnavailableException("a\r\nb\tc", new IOException())))
        .isEqualTo("a b c");
    assertThat(ClientsEndpoint.cause(new StoreUnavailableException(null, new java.net.ConnectException())))
        .isEqualTo("ConnectException");
    assertThat(ClientsEndpoint.cause(new StoreUnavailableException("x".repeat(1000), new IOException())))
        .hasSize(300)
        .endsWith("...");
  }

  @Test
  void anUnexpectedFailureOfTheServiceIs500() {
    limits.failWith(new IllegalStateException("bug"));

    try (LogCapture log = LogCapture.of(AdminDispatcher.class)) {
      AdminResponse list = call(HttpMethod.GET, "/clients", null);
      AdminResponse post =
          call(HttpMethod.POST, "/clients", "{\"client_id\":\"u\",\"capacity\":3,\"rate_per_sec\":1}");

      assertThat(list.status()).isEqualTo(500);
      assertThat(list.bodyText()).isEqualTo("{\"code\":500,\"message\":\"Internal error\"}");
      assertThat(post.status()).isEqualTo(500);
      assertThat(log.events()).hasSize(2);
    }
  }

  // ---- routes and access ----

  @Test
  void otherMethodsAre405WithAllow() {
    AdminResponse onItem = call(HttpMethod.PATCH, "/clients/user1", "{}");
    AdminResponse onCollection = call(HttpMethod.DELETE, "/clients", null);

    assertThat(onItem.status()).isEqualTo(405);
    assertThat(onItem.headers()).containsEntry("allow", "GET, HEAD, PUT, DELETE");
    assertThat(onCollection.status()).isEqualTo(405);
    assertThat(onCollection.headers()).containsEntry("allow", "GET, HEAD, POST");
  }

  @Test
  void everyRouteNeedsTheTokenWhenOneIsSet() {
    AdminDispatcher guarded = dispatcher("s3cret", limits);

    for (Object[] route : routes()) {
      HttpMethod method = (HttpMethod) route[0];
      String path = (String) route[1];
      String body = (String) route[2];
      AdminResponse response = call(guarded, method, path, body, LOOPBACK);
      assertThat(response.status()).as(method + " " + path).isEqualTo(401);
    }
    assertThat(limits.writtenIds()).isEmpty();
  }

  @Test
  void withoutATokenEveryRouteRefusesCallersOffThisHost() {
    for (Object[] route : routes()) {
      HttpMethod method = (HttpMethod) route[0];
      String path = (String) route[1];
      String body = (String) route[2];
      AdminResponse response = call(dispatcher, method, path, body, REMOTE);
      assertThat(response.status()).as(method + " " + path).isEqualTo(403);
      assertThat(response.bodyText()).isEqualTo("{\"code\":403,\"message\":\"Forbidden\"}");
    }
    assertThat(limits.writtenIds()).isEmpty();
  }

  // ---- helpers ----

  private static List<Object[]> routes() {
    String body = "{\"client_id\":\"u\",\"capacity\":3,\"rate_per_sec\":1}";
    return List.of(
        new Object[] {HttpMethod.GET, "/clients", ""},
        new Object[] {HttpMethod.POST, "/clients", body},
        new Object[] {HttpMethod.GET, "/clients/u", ""},
        new Object[] {HttpMethod.PUT, "/clients/u", "{\"capacity\":3,\"rate_per_sec\":1}"},
        new Object[] {HttpMethod.DELETE, "/clients/u", ""});
  }

  private static AdminDispatcher dispatcher(String token, FakeClientLimits service) {
    AdminRouter router = ClientsEndpoint.register(AdminRouter.builder(), service).build();
    return new AdminDispatcher(router, AccessControl.forToken(token), Runnable::run);
  }

  private AdminResponse call(HttpMethod method, String rawPath, @Nullable String body) {
    return call(dispatcher, method, rawPath, body, LOOPBACK);
  }

  private static AdminResponse call(
      AdminDispatcher target, HttpMethod method, String rawPath, @Nullable String body, SocketAddress peer) {
    AdminRequest.Builder request = AdminRequest.builder(method, rawPath).remoteAddress(peer);
    if (body != null) {
      request.body(body);
    }
    return target.dispatch(request.build()).toCompletableFuture().join();
  }

  private static JsonNode json(AdminResponse response) {
    try {
      return JSON.readTree(response.bodyText());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
