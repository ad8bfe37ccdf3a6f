package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lb.it.support.RawResponse;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Checks shared by the integration tests: the contract's JSON answers, and JSON bodies. */
final class LbAssertions {
  static final ObjectMapper JSON = new ObjectMapper();

  private LbAssertions() {}

  /** The balancer's own answer: {@code status}, {@code application/json}, body {@code {"code":N,"message":"..."}}. */
  static void assertJsonError(RawResponse response, int status, String message) {
    assertThat(response.status()).as("status of %s", response).isEqualTo(status);
    assertThat(response.header("Content-Type")).as("Content-Type of %s", response).startsWith("application/json");
    JsonNode body = json(response.bodyString());
    assertThat(body.size()).as("fields of %s", body).isEqualTo(2);
    assertThat(body.path("code").isInt()).as("code of %s is a number", body).isTrue();
    assertThat(body.path("code").asInt()).as("code of %s", body).isEqualTo(status);
    assertThat(body.path("message").asText()).as("message of %s", body).isEqualTo(message);
  }

  static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException("not JSON: " + text, e);
    }
  }
}
