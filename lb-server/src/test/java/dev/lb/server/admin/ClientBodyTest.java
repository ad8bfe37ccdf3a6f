package dev.lb.server.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lb.ratelimit.Limit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Reading and checking {@code /clients} bodies and path ids; every problem names its field. */
class ClientBodyTest {
  private static final String CAPACITY = "(expected: an integer from 1 to 1000000000)";
  private static final String RATE = "(expected: a number above 0)";
  private static final String RATE_AT_MOST = "(expected: a number above 0, at most 1000000000)";
  private static final String ID = "(expected: a client id of 1 to 512 characters)";
  private static final String FIELD = "(expected: one of client_id, capacity, rate_per_sec)";

  // ---- accepted ----

  @Test
  void readsACreateBody() {
    ClientBody body = ClientBody.forCreate(json("{\"client_id\":\"user1\",\"capacity\":100,\"rate_per_sec\":10}"));

    assertThat(body).isEqualTo(new ClientBody("user1", new Limit(100, 10)));
  }

  @Test
  void keepsFractionsAndAcceptsTheBounds() {
    assertThat(ClientBody.forCreate(json("{\"client_id\":\"a\",\"capacity\":1,\"rate_per_sec\":0.5}")).limit())
        .isEqualTo(new Limit(1, 0.5));
    assertThat(
            ClientBody.forCreate(json("{\"rate_per_sec\":1e9,\"capacity\":1000000000,\"client_id\":\"a\"}")).limit())
        .isEqualTo(new Limit(1_000_000_000, 1e9));
    assertThat(ClientBody.forCreate(json("{\"client_id\":\"a\",\"capacity\":7,\"rate_per_sec\":0.001}")).limit())
        .isEqualTo(new Limit(7, 0.001));
  }

  @Test
  void normalisesIpLikeIdsAndKeepsOthersAsTheyAre() {
    assertThat(ClientBody.forCreate(create("\"0:0:0:0:0:0:0:1\"")).clientId()).isEqualTo("::1");
    assertThat(ClientBody.forCreate(create("\"::ffff:10.0.0.1\"")).clientId()).isEqualTo("10.0.0.1");
    assertThat(ClientBody.forCreate(create("\"User/1 @x\"")).clientId()).isEqualTo("User/1 @x");
    assertThat(ClientBody.forCreate(create("\"" + "x".repeat(512) + "\"")).clientId()).hasSize(512);
  }

  @Test
  void aReplaceBodyTakesTheIdOfThePath() {
    assertThat(ClientBody.forReplace(json("{\"capacity\":5,\"rate_per_sec\":2}"), "user1"))
        .isEqualTo(new ClientBody("user1", new Limit(5, 2)));
    assertThat(ClientBody.forReplace(json("{\"capacity\":5,\"rate_per_sec\":2}"), "0:0:0:0:0:0:0:1").clientId())
        .isEqualTo("::1");
  }

  @Test
  void aReplaceBodyMayRepeatThePathsIdInAnyForm() {
    assertThat(ClientBody.forReplace(json("{\"client_id\":\"user1\",\"capacity\":5,\"rate_per_sec\":2}"), "user1"))
        .isEqualTo(new ClientBody("user1", new Limit(5, 2)));
    assertThat(
            ClientBody.forReplace(
                json("{\"client_id\":\"0:0:0:0:0:0:0:1\",\"capacity\":5,\"rate_per_sec\":2}"), "::1"))
        .isEqualTo(new ClientBody("::1", new Limit(5, 2)));
  }

  @Test
  void pathIdsAreNormalised() {
    assertThat(ClientBody.pathId("0:0:0:0:0:0:0:1")).isEqualTo("::1");
    assertThat(ClientBody.pathId("::FFFF:127.0.0.1")).isEqualTo("127.0.0.1");
    assertThat(ClientBody.pathId("user/1")).isEqualTo("user/1");
  }

  // ---- refused ----

  static Stream<Arguments> badCreateBodies() {
    return Stream.of(
        // capacity: a JSON integer from 1 to 1e9
        bad("{\"client_id\":\"u\",\"capacity\":0,\"rate_per_sec\":10}", "capacity: 0 " + CAPACITY),
        bad("{\"client_id\":\"u\",\"capacity\":-5,\"rate_per_sec\":10}", "capacity: -5 " + CAPACITY),
        bad("{\"client_id\":\"u\",\"capacity\":1000000001,\"rate_per_sec\":10}", "capacity: 1000000001 " + CAPACITY),
        bad("{\"client_id\":\"u\",\"capacity\":1.5,\"rate_per_sec\":10}", "capacity: 1.5 " + CAPACITY),
        bad("{\"client_id\":\"u\",\"capacity\":1e2,\"rate_per_sec\":10}", "capacity: 100.0 " + CAPACITY),
        bad("{\"client_id\":\"u\",\"capacity\":\"10\",\"rate_per_sec\":10}", "capacity: \"10\" " + CAPACITY),
        bad("{\"client_id\":\"u\",\"capacity\":null,\"rate_per_sec\":10}", "capacity: null " + CAPACITY),
        bad("{\"client_id\":\"u\",\"capacity\":true,\"rate_per_sec\":10}", "capacity: true " + CAPACITY),
        bad("{\"client_id\":\"u\",\"capacity\":[10],\"rate_per_sec\":10}", "capacity: [10] " + CAPACITY),
        bad(
            "{\"client_id\":\"u\",\"capacity\":123456789012345678901234567890,\"rate_per_sec\":10}",
            "capacity: 123456789012345678901234567890 " + CAPACITY),
        bad("{\"client_id\":\"u\",\"rate_per_sec\":10}", "capacity: (missing) " + CAPACITY),
        // rate_per_sec: a finite JSON number above 0, at most 1e9
        bad("{\"client_id\":\"u\",\"capacity\":10,\"rate_per_sec\":\"fast\"}", "rate_per_sec: \"fast\" " + RATE),
        bad("{\"client_id\":\"u\",\"capacity\":10,\"rate_per_sec\":\"10\"}", "rate_per_sec: \"10\" " + RATE),
        bad("{\"client_id\":\"u\",\"capacity\":10,\"rate_per_sec\":0}", "rate_per_sec: 0 " + RATE),
        bad("{\"client_id\":\"u\",\"capacity\":10,\"rate_per_sec\":0.0}", "rate_per_sec: 0.0 " + RATE),
        bad("{\"client_id\":\"u\",\"capacity\":10,\"rate_per_sec\":-1.5}", "rate_per_sec: -1.5 " + RATE),
        bad("{\"client_id\":\"u\",\"capacity\":10,\"rate_per_sec\":null}", "rate_per_sec: null " + RATE),
        bad("{\"client_id\":\"u\",\"capacity\":10,\"rate_per_sec\":{}}", "rate_per_sec: {} " + RATE),
        bad(
            "{\"client_id\":\"u\",\"capacity\":10,\"rate_per_sec\":1000000000.5}",
            "rate_per_sec: 1.0000000005E9 " + RATE_AT_MOST),
        bad(
            "{\"client_id\":\"u\",\"capacity\":10,\"rate_per_sec\":2000000000}",
            "rate_per_sec: 2000000000 " + RATE_AT_MOST),
        bad("{\"client_id\":\"u\",\"capacity\":10,\"rate_per_sec\":1e400}", "rate_per_sec: Infinity " + RATE_AT_MOST),
        bad("{\"client_id\":\"u\",\"capacity\":10,\"rate_per_sec\":-1e400}", "rate_per_sec: -Infinity " + RATE),
        bad("{\"client_id\":\"u\",\"capacity\":10}", "rate_per_sec: (missing) " + RATE),
        // client_id: a string of 1 to 512 characters, no control characters
        bad("{\"capacity\":10,\"rate_per_sec\":1}", "client_id: (missing) " + ID),
        bad("{\"client_id\":\"\",\"capacity\":10,\"rate_per_sec\":1}", "client_id: \"\" " + ID),
        bad("{\"client_id\":42,\"capacity\":10,\"rate_per_sec\":1}", "client_id: 42 " + ID),
        bad("{\"client_id\":null,\"capacity\":10,\"rate_per_sec\":1}", "client_id: null " + ID),
        bad(
            "{\"client_id\":\"" + "x".repeat(513) + "\",\"capacity\":10,\"rate_per_sec\":1}",
            "client_id: \"" + "x".repeat(96) + "... " + ID),
        bad(
            "{\"client_id\":\"a\\u0001b\",\"capacity\":10,\"rate_per_sec\":1}",
            "client_id: \"a\\u0001b\" (expected: a client id without control characters)"),
        // nothing else
        bad("{\"client_id\":\"u\",\"capacity\":10,\"rate_per_sec\":1,\"burst\":5}", "burst: 5 " + FIELD),
        bad("{\"client_id\":\"u\",\"capacity\":10,\"rate_per_sec\":1,\"Capacity\":5}", "Capacity: 5 " + FIELD),
        bad("{\"client_id\":\"u\",\"capacity\":10,\"rate_per_sec\":1,\"a b\":{\"c\":1}}", "\"a b\": {\"c\":1} " + FIELD),
        bad("{\"client_id\":\"u\",\"capacity\":10,\"rate_per_sec\":1,\"\":0}", "\"\": 0 " + FIELD),
        // a JSON object
        bad("[1,2]", "body: [1,2] (expected: a JSON object with client_id, capacity, rate_per_sec)"),
        bad("\"user1\"", "body: \"user1\" (expected: a JSON object with client_id, capacity, rate_per_sec)"),
        bad("null", "body: null (expected: a JSON object with client_id, capacity, rate_per_sec)"),
        bad("12", "body: 12 (expected: a JSON object with client_id, capacity, rate_per_sec)"),
        // every problem at once: in the body's order, then the missing fields
        bad("{}", "client_id: (missing) " + ID + "; capacity: (missing) " + CAPACITY + "; rate_per_sec: (missing) " + RATE),
        bad(
            "{\"rate_per_sec\":\"fast\",\"burst\":5,\"capacity\":1.5,\"client_id\":\"\"}",
            "rate_per_sec: \"fast\" " + RATE + "; burst: 5 " + FIELD + "; capacity: 1.5 " + CAPACITY
                + "; client_id: \"\" " + ID),
        bad(
            "{\"capacity\":0,\"extra\":true}",
            "capacity: 0 " + CAPACITY + "; extra: true " + FIELD + "; client_id: (missing) " + ID
                + "; rate_per_sec: (missing) " + RATE));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badCreateBodies")
  void aBadCreateBodyIs400NamingEachField(String body, String message) {
    AdminException e = catchThrowableOfType(AdminException.class, () -> ClientBody.forCreate(json(body)));

    assertThat(e).as(body).isNotNull();
    assertThat(e.response().status()).isEqualTo(400);
    assertThat(e.getMessage()).isEqualTo(message);
    assertThat(e.response().bodyText()).isEqualTo(AdminResponse.error(400, message).bodyText());
  }

  static Stream<Arguments> badReplaceBodies() {
    return Stream.of(
        bad("{\"capacity\":0,\"rate_per_sec\":1}", "capacity: 0 " + CAPACITY),
        bad("{\"rate_per_sec\":1}", "capacity: (missing) " + CAPACITY),
        bad("{\"capacity\":10}", "rate_per_sec: (missing) " + RATE),
        bad("{\"capacity\":10,\"rate_per_sec\":-2}", "rate_per_sec: -2 " + RATE),
        bad("{\"capacity\":10,\"rate_per_sec\":1,\"burst\":5}", "burst: 5 " + FIELD),
        bad("{}", "capacity: (missing) " + CAPACITY + "; rate_per_sec: (missing) " + RATE),
        bad("[]", "body: [] (expected: a JSON object with capacity, rate_per_sec)"),
        bad(
            "{\"client_id\":\"bob\",\"capacity\":10,\"rate_per_sec\":1}",
            "client_id: \"bob\" (expected: the client id of the path, \"alice\")"),
        bad("{\"client_id\":\"\",\"capacity\":10,\"rate_per_sec\":1}", "client_id: \"\" " + ID),
        bad("{\"client_id\":7,\"capacity\":10,\"rate_per_sec\":1}", "client_id: 7 " + ID),
        bad(
            "{\"client_id\":\"bob\",\"capacity\":\"10\",\"rate_per_sec\":1}",
            "client_id: \"bob\" (expected: the client id of the path, \"alice\"); capacity: \"10\" " + CAPACITY));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badReplaceBodies")
  void aBadReplaceBodyIs400NamingEachField(String body, String message) {
    AdminException e = catchThrowableOfType(AdminException.class, () -> ClientBody.forReplace(json(body), "alice"));

    assertThat(e).as(body).isNotNull();
    assertThat(e.response().status()).isEqualTo(400);
    assertThat(e.getMessage()).isEqualTo(message);
  }

  @Test
  void aBadPathIdIsReportedWithTheBodysProblems() {
    String longId = "y".repeat(513);

    AdminException e =
        catchThrowableOfType(
            AdminException.class, () -> ClientBody.forReplace(json("{\"capacity\":0,\"rate_per_sec\":1}"), longId));
    AdminException notAnObject =
        catchThrowableOfType(AdminException.class, () -> ClientBody.forReplace(json("1"), longId));

    String idProblem = "client_id: \"" + "y".repeat(96) + "... " + ID;
    assertThat(e.getMessage()).isEqualTo(idProblem + "; capacity: 0 " + CAPACITY);
    assertThat(notAnObject.getMessage())
        .isEqualTo(idProblem + "; body: 1 (expected: a JSON object with capacity, rate_per_sec)");
  }

  @Test
  void aBadPathIdIs400() {
    AdminException tooLong = catchThrowableOfType(AdminException.class, () -> ClientBody.pathId("z".repeat(513)));
    AdminException empty = catchThrowableOfType(AdminException.class, () -> ClientBody.pathId(""));

    assertThat(tooLong.response().status()).isEqualTo(400);
    assertThat(tooLong.getMessage()).isEqualTo("client_id: \"" + "z".repeat(96) + "... " + ID);
    assertThat(empty.getMessage()).isEqualTo("client_id: \"\" " + ID);
  }

  private static Arguments bad(String body, String message) {
    return Arguments.of(body, message);
  }

  private static JsonNode create(String idJson) {
    return json("{\"client_id\":" + idJson + ",\"capacity\":10,\"rate_per_sec\":1}");
  }

  private static JsonNode json(String text) {
    return AdminRequest.builder(io.netty.handler.codec.http.HttpMethod.POST, "/clients").body(text).build().jsonBody();
  }
}
