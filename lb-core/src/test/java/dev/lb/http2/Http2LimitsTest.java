package dev.lb.http2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class Http2LimitsTest {

  private static Http2Limits with(int maxHeaderListSize, int maxFrameSize, int maxContinuations) {
    Http2Limits d = Http2Limits.defaults();
    return new Http2Limits(d.maxConcurrentStreams(), maxHeaderListSize, d.initialWindowSize(), maxFrameSize,
        d.window(), d.maxResets(), d.maxSettings(), d.maxPings(), d.maxEmptyData(), maxContinuations,
        d.gracefulShutdown());
  }

  @Test
  void defaults() {
    Http2Limits d = Http2Limits.defaults();
    assertThat(d.maxConcurrentStreams()).isEqualTo(100);
    assertThat(d.maxHeaderListSize()).isEqualTo(16_384);
    assertThat(d.initialWindowSize()).isEqualTo(1 << 20);
    assertThat(d.maxFrameSize()).isEqualTo(16_384);
    assertThat(d.window()).isEqualTo(Duration.ofSeconds(10));
    assertThat(d.maxResets()).isEqualTo(100);
    assertThat(d.maxSettings()).isEqualTo(100);
    assertThat(d.maxPings()).isEqualTo(100);
    assertThat(d.maxEmptyData()).isEqualTo(100);
    assertThat(d.maxContinuations()).isEqualTo(32);
    assertThat(d.gracefulShutdown()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void continuationsFitTheLargestBlockInSmallFragments() {
    assertThat(Http2Limits.continuationsFor(16_384)).isEqualTo(32);
    assertThat(Http2Limits.continuationsFor(65_536)).isEqualTo(128);
    assertThat(Http2Limits.continuationsFor(1_000)).as("never under 16").isEqualTo(16);
    Http2Limits d = Http2Limits.defaults();
    Http2Limits big = new Http2Limits(d.maxConcurrentStreams(), 1 << 20, d.initialWindowSize(), d.maxFrameSize(),
        d.window(), d.maxResets(), d.maxSettings(), d.maxPings(), d.maxEmptyData(), d.gracefulShutdown());
    assertThat(big.maxContinuations()).isEqualTo(2048);
  }

  @Test
  void refusesWhatCannotWork() {
    assertThatThrownBy(() -> with(16_384, 16_383, 32)).hasMessageContaining("maxFrameSize");
    assertThatThrownBy(() -> with(16_384, 1 << 24, 32)).hasMessageContaining("maxFrameSize");
    assertThatThrownBy(() -> with(1 << 20, 16_384, 10))
        .hasMessageContaining("maxContinuations 10 leaves no room");
    assertThat(with(1 << 20, 16_384, 63).maxContinuations()).as("64 frames of 16 KiB hold 1 MiB").isEqualTo(63);
    assertThat(with(16_384, 16_384, 0).maxContinuations()).isZero();
    Http2Limits d = Http2Limits.defaults();
    assertThatThrownBy(() -> new Http2Limits(0, 16_384, 1, 16_384, d.window(), 1, 1, 1, 1, d.gracefulShutdown()))
        .hasMessageContaining("maxConcurrentStreams");
    assertThatThrownBy(() -> new Http2Limits(1, 16_384, 1, 16_384, Duration.ZERO, 1, 1, 1, 1, d.gracefulShutdown()))
        .hasMessageContaining("window");
    assertThatThrownBy(() -> new Http2Limits(1, 16_384, 1, 16_384, d.window(), 0, 1, 1, 1, d.gracefulShutdown()))
        .hasMessageContaining("maxResets");
    assertThatThrownBy(() -> new Http2Limits(1, 16_384, 1, 16_384, d.window(), 1, 1, 1, 1, Duration.ofSeconds(-1)))
        .hasMessageContaining("gracefulShutdown");
  }

  @Test
  void floodKeysAreMetricLabels() {
    assertThat(Flood.RAPID_RESET.key()).isEqualTo("rapid_reset");
    assertThat(Arrays.stream(Flood.values()).map(Flood::key))
        .containsExactly("rapid_reset", "continuation", "settings", "ping", "empty_data", "resets_sent",
            "control_backlog")
        .allMatch(k -> k.matches("[a-z_]+"));
  }
}
