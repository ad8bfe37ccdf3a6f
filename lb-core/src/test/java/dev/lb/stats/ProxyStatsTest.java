package dev.lb.stats;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProxyStatsTest {
  private static final long SECOND = 1_000_000_000L;

  @Test
  void ratesComeFromOneSecondSamplesAndThePeakStays() {
    ProxyStats s = new ProxyStats();
    long t = 50 * SECOND;
    s.tick(t, 1_000);
    assertThat(s.requestsPerSecond()).isZero();
    for (int i = 0; i < 300; i++) {
      s.requestDone();
    }
    s.tick(t + SECOND, 2_000);
    assertThat(s.requestsPerSecond()).isEqualTo(300);
    for (int i = 0; i < 50; i++) {
      s.requestDone();
    }
    s.tick(t + 3 * SECOND, 4_000); // two seconds: 25 a second
    assertThat(s.requestsPerSecond()).isEqualTo(25);
    assertThat(s.peakRequestsPerSecond()).isEqualTo(300);
    assertThat(s.peakAtMillis()).isEqualTo(2_000);
    assertThat(s.requests()).isEqualTo(350);
  }

  @Test
  void refusalsCountOverTheLastMinuteOnly() {
    ProxyStats s = new ProxyStats();
    long t = 10 * SECOND;
    s.tick(t, 0);
    s.rateLimited("10.0.0.1");
    s.rateLimited("10.0.0.1");
    s.rateLimited("10.0.0.2");
    assertThat(s.rateLimitedLastMinute()).isEqualTo(3);
    s.tick(t + SECOND, 0);
    assertThat(s.rateLimitedLastMinute()).isEqualTo(3);
    assertThat(s.topRefused(10)).extracting(TopClients.Entry::client).containsExactly("10.0.0.1", "10.0.0.2");
    for (int i = 2; i <= 61; i++) {
      s.tick(t + i * SECOND, 0);
    }
    assertThat(s.rateLimitedLastMinute()).isZero();
    assertThat(s.topRefused(10)).isEmpty();
    assertThat(s.rateLimited()).isEqualTo(3);
  }

  @Test
  void connectionsAreCounted() {
    ProxyStats s = new ProxyStats();
    s.connectionAccepted();
    s.connectionAccepted();
    s.connectionRefused();
    assertThat(s.connectionsAccepted()).isEqualTo(2);
    assertThat(s.connectionsRefused()).isEqualTo(1);
  }
}
