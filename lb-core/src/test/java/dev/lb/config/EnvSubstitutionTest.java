package dev.lb.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.config.EnvSubstitution.Problem;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class EnvSubstitutionTest {
  private static final Map<String, String> ENV = Map.of("HOST", "10.0.0.1", "PORT", "8081", "EMPTY", "");

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "plain                      | plain",
        "${HOST}                    | 10.0.0.1",
        "http://${HOST}:${PORT}/    | http://10.0.0.1:8081/",
        "${UNSET:-fallback}         | fallback",
        "${HOST:-fallback}          | 10.0.0.1",
        "${EMPTY:-fallback}         | fallback",
        "'${EMPTY}'                 | ''",
        "'${UNSET:-}'               | ''",
        "${UNSET:-a:-b}             | a:-b",
        "$${HOST}                   | ${HOST}",
        "a$${b                      | a${b",
        "$$${HOST}                  | $${HOST}",
        "cost: $5 and $HOST         | cost: $5 and $HOST",
        "$                          | $",
        "${HOST}${PORT}             | 10.0.0.18081"
      })
  void replacesReferences(String text, String expected) {
    EnvSubstitution.Result result = EnvSubstitution.apply(text, ENV);
    assertThat(result.problems()).isEmpty();
    assertThat(result.value()).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(strings = {"${UNSET}", "x-${UNSET}-y"})
  void anUnsetVariableWithoutDefaultIsAProblem(String text) {
    EnvSubstitution.Result result = EnvSubstitution.apply(text, ENV);
    assertThat(result.value()).isNull();
    assertThat(result.problems()).containsExactly(new Problem("${UNSET}", "environment variable UNSET to be set"));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {"${1X} | ${1X}", "${A B} | ${A B}", "'${}' | ${}", "a${HOST | ${HOST"})
  void aMalformedReferenceIsAProblem(String text, String reference) {
    EnvSubstitution.Result result = EnvSubstitution.apply(text, ENV);
    assertThat(result.value()).isNull();
    assertThat(result.problems()).containsExactly(new Problem(reference, EnvSubstitution.MALFORMED));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "plain", "${HOST}", "$${HOST}", "a$${b", "$$${", "${", "}$", "$$", "$"})
  void escapeThenApplyGivesTheTextBack(String text) {
    EnvSubstitution.Result result = EnvSubstitution.apply(EnvSubstitution.escape(text), Map.of());
    assertThat(result.problems()).isEmpty();
    assertThat(result.value()).isEqualTo(text);
  }
}
