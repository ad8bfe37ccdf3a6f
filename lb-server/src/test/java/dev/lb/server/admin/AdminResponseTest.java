package dev.lb.server.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.codec.http.HttpMethod;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Building answers and reading requests, without channels. */
class AdminResponseTest {
  record ClientView(String clientId, long capacity, double ratePerSec) {}

  @Test
  void jsonUsesSnakeCaseNames() {
    AdminResponse response = AdminResponse.json(201, List.of(new ClientView("user1", 100, 2.5)));

    assertThat(response.status()).isEqualTo(201);
    assertThat(response.contentType()).isEqualTo("application/json");
    assertThat(response.bodyText()).isEqualTo("[{\"client_id\":\"user1\",\"capacity\":100,\"rate_per_sec\":2.5}]");
  }

  @Test
  void errorShapeEscapesTheMessage() {
    assertThat(AdminResponse.error(400, "client_id: \"a\\b\" (expected: text)").bodyText())
        .isEqualTo("{\"code\":400,\"message\":\"client_id: \\\"a\\\\b\\\" (expected: text)\"}");
  }

  @Test
  void rawJsonAndTextAreSentAsTheyAre() {
    assertThat(AdminResponse.json(200, "{\"raw\":1}").bodyText()).isEqualTo("{\"raw\":1}");
    AdminResponse text = AdminResponse.text(200, "text/plain; version=0.0.4; charset=utf-8", "lb_up 1\n");
    assertThat(text.contentType()).isEqualTo("text/plain; version=0.0.4; charset=utf-8");
    assertThat(text.bodyText()).isEqualTo("lb_up 1\n");
  }

  @Test
  void noContentHasNoBodyAndNoType() {
    AdminResponse response = AdminResponse.noContent();

    assertThat(response.status()).isEqualTo(204);
    assertThat(response.body()).isEmpty();
    assertThat(response.contentType()).isNull();
  }

  @Test
  void headersAreCheckedWhenAdded() {
    AdminResponse response = AdminResponse.noContent().withHeader("Retry-After", "1").withHeader("retry-after", "2");

    assertThat(response.headers()).containsExactly(java.util.Map.entry("retry-after", "2"));
    assertThatThrownBy(() -> response.withHeader("X-Bad", "a\r\nSet-Cookie: x"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> response.withHeader("X Bad", "a")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> AdminResponse.json(600, "{}")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void bodiesAreCopiesAndExceptionsCarryTheirAnswer() {
    AdminRequest request = AdminRequest.builder(HttpMethod.PUT, "/clients/a").body("{\"capacity\":1}").build();
    request.body()[0] = 'x';

    assertThat(request.jsonBody().get("capacity").asInt()).isEqualTo(1);
    assertThat(AdminException.notFound("Unknown client: a").response().bodyText())
        .isEqualTo("{\"code\":404,\"message\":\"Unknown client: a\"}");
    assertThatThrownBy(() -> new AdminException(302, "x")).isInstanceOf(IllegalArgumentException.class);
  }
}
