package dev.lb.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

  @ParameterizedTest
  @CsvSource({
    "250ms, PT0.25S",
    "2s, PT2S",
    "1.5s, PT1.5S",
    "1m, PT1M",
    "90s, PT1M30S",
    "1h, PT1H",
    "1.5h, PT1H30M",
    "0, PT0S",
    "0s, PT0S",
    "0ms, PT0S",
    "0.5ms, PT0.0005S",
    "007s, PT7S",
    "0.000001ms, PT0.000000001S"
  })
  void parsesNumberAndUnit(String text, Duration expected) {
    assertThat(Durations.parse(text)).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "", "5", "1.5", "-1s", "+1s", "s", "1d", "2S", "2 s", " 2s", "2s ", "1.s", ".5s", "1e3ms", "1,5s", "0.0",
        "0x10s", "2sec", "1m30s"
      })
  void rejectsWhatIsNotADuration(String text) {
    assertThatThrownBy(() -> Durations.parse(text)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void rejectsFinerThanANanosecond() {
    assertThatThrownBy(() -> Durations.parse("0.0000001ms"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nanosecond");
  }

  @Test
  void acceptsUpToLongMaxNanosecondsAndNoMore() {
    assertThat(Durations.parse("9223372036.854775807s")).isEqualTo(Duration.ofNanos(Long.MAX_VALUE));
    assertThatThrownBy(() -> Durations.parse("9223372036.854775808s")).isInstanceOf(IllegalArgumentException.class);
    assertThat(Durations.parse("2562047h")).isEqualTo(Duration.ofHours(2_562_047));
    assertThatThrownBy(() -> Durations.parse("2562048h")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Durations.parse("99999999999999999999999999999999h"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest
  @CsvSource({
    "PT0S, 0s",
    "PT0.25S, 250ms",
    "PT2S, 2s",
    "PT1M, 1m",
    "PT1M30S, 90s",
    "PT1H, 1h",
    "PT1H30M, 90m",
    "PT1.5S, 1500ms",
    "PT0.0015S, 1.5ms",
    "PT0.000000001S, 0.000001ms",
    "PT60S, 1m",
    "PT3600S, 1h",
    "PT25H, 25h"
  })
  void formatsInTheLargestWholeUnit(Duration duration, String expected) {
    assertThat(Durations.format(duration)).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"PT0S", "PT0.001S", "PT0.123456789S", "PT1.5S", "PT59S", "PT61S", "PT2H0.5S", "PT2562047H"})
  void formatThenParseGivesTheSameDuration(Duration duration) {
    assertThat(Durations.parse(Durations.format(duration))).isEqualTo(duration);
  }

  @ParameterizedTest
  @ValueSource(strings = {"250ms", "2s", "1m", "90s", "1h", "0s", "1.5ms"})
  void parseThenFormatGivesTheShortestForm(String text) {
    assertThat(Durations.format(Durations.parse(text))).isEqualTo(text);
  }

  @Test
  void refusesToFormatANegativeDuration() {
    assertThatThrownBy(() -> Durations.format(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class);
  }
}
