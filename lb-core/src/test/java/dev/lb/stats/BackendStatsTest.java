package dev.lb.stats;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.stats.BackendStats.ErrorKind;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class BackendStatsTest {
  private static final long SECOND = 1_000_000_000L;

  @Test
  void countsResponsesByClassAndBodyBytes() {
    BackendStats s = new BackendStats();
    s.selected(5_000_000);
    s.selected(5_000_500);
    s.responded(200, 1_000_000, 10, 100);
    s.responded(503, 2_000_000, 0, 5);
    s.responded(101, 1_000, 0, 0);
    assertThat(s.requests()).isEqualTo(2);
    assertThat(s.responses(0)).isEqualTo(1);
    assertThat(s.responses(1)).isEqualTo(1);
    assertThat(s.responses(4)).isEqualTo(1);
    assertThat(s.bytesIn()).isEqualTo(10);
    assertThat(s.bytesOut()).isEqualTo(105);
    assertThat(s.lastSelectedNanos()).as("kept to the millisecond").isEqualTo(5_000_000);
    s.selected(6_000_000);
    assertThat(s.lastSelectedNanos()).isEqualTo(6_000_000);
  }

  @Test
  void sortsFailuresByTheReasonsLbGives() {
    assertThat(ErrorKind.of("connection refused")).isEqualTo(ErrorKind.CONNECT_REFUSED);
    assertThat(ErrorKind.of("connect timeout")).isEqualTo(ErrorKind.TIMEOUT);
    assertThat(ErrorKind.of("no response within 5000 ms")).isEqualTo(ErrorKind.TIMEOUT);
    assertThat(ErrorKind.of("connection reset")).isEqualTo(ErrorKind.RESET);
    assertThat(ErrorKind.of("malformed response: bad status line")).isEqualTo(ErrorKind.MALFORMED);
    assertThat(ErrorKind.of("connection closed before a response")).isEqualTo(ErrorKind.CLOSED);
    assertThat(ErrorKind.of("connection closed during the response")).isEqualTo(ErrorKind.CLOSED);
    assertThat(ErrorKind.of("something odd")).isEqualTo(ErrorKind.OTHER);
    BackendStats s = new BackendStats();
    s.failed("connection refused");
    s.failed("connection refused");
    s.retried();
    assertThat(s.errors(ErrorKind.CONNECT_REFUSED)).isEqualTo(2);
    assertThat(s.errors(ErrorKind.RESET)).isZero();
    assertThat(s.retries()).isEqualTo(1);
  }

  @Test
  void theLatencyWindowForgetsWhatIsOlderThanAMinute() {
    BackendStats s = new BackendStats();
    long t = 1_000 * SECOND;
    s.tick(t);
    for (int i = 0; i < 100; i++) {
      s.responded(200, 100 * 1_000_000L, 0, 0); // 100 ms, early
    }
    // Younger than a minute: everything since start counts.
    assertThat(total(s.lastMinute(t + 30 * SECOND))).isEqualTo(100);
    for (int tick = 1; tick <= 13; tick++) {
      s.tick(t + tick * 5 * SECOND);
    }
    for (int i = 0; i < 50; i++) {
      s.responded(200, 1_000_000L, 0, 0); // 1 ms, late
    }
    long now = t + 66 * SECOND;
    long[] window = s.lastMinute(now);
    assertThat(total(window)).isEqualTo(50);
    assertThat(LatencyHistogram.quantileNanos(window, 0.99)).isBetween(900_000L, 1_100_000L);
  }

  @Test
  void withoutTicksTheWindowHoldsEverything() {
    BackendStats s = new BackendStats();
    s.responded(200, 5_000_000, 0, 0);
    assertThat(total(s.lastMinute(System.nanoTime()))).isEqualTo(1);
  }

  private static long total(long[] counts) {
    return Arrays.stream(counts).sum();
  }
}
