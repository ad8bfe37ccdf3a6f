package dev.lb.backend;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The rise/fall policy's transitions, with a driven clock. */
class BackendHealthTest {
  private Instant now = Instant.parse("2026-01-01T00:00:00Z");
  private final AtomicLong nanos = new AtomicLong(1_000);
  private final List<String> changes = new ArrayList<>();

  private BackendHealth health(int healthy, int unhealthy) {
    Clock clock = new Clock() {
      @Override
      public ZoneOffset getZone() {
        return ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(java.time.ZoneId zone) {
        return this;
      }

      @Override
      public Instant instant() {
        return now;
      }
    };
    BackendHealth h = new BackendHealth(new HealthPolicy(true, healthy, unhealthy), clock, nanos::get);
    h.listener((x, state, reason) -> changes.add(state + ": " + reason));
    return h;
  }

  private void tick(Duration d) {
    now = now.plus(d);
    nanos.addAndGet(d.toNanos());
  }

  @Test
  void aNewAddressWaitsForItsFirstProbeAndOnePassIsEnough() {
    BackendHealth h = health(3, 3);
    h.awaitFirstProbe();
    assertThat(h.isHealthy()).isFalse();
    assertThat(h.stateReason()).isEqualTo("new address, waiting for its first health check");
    h.probePassed("status 200");
    assertThat(h.isHealthy()).isTrue();
    assertThat(changes).containsExactly("UP: its first health check passed (status 200)");
    assertThat(h.backSinceNanos()).as("it comes in through slow start").isPositive();
  }

  @Test
  void aNewAddressWhoseFirstProbeFailsNeedsTheHealthyThreshold() {
    BackendHealth h = health(2, 3);
    h.awaitFirstProbe();
    h.probeFailed("connection refused");
    h.probePassed("status 200");
    assertThat(h.isHealthy()).as("one pass after a failure is not enough").isFalse();
    h.probePassed("status 200");
    assertThat(h.isHealthy()).isTrue();
  }

  @Test
  void awaitingTheFirstProbeMeansNothingWithoutActiveChecks() {
    BackendHealth h = BackendHealth.untracked();
    h.awaitFirstProbe();
    assertThat(h.isHealthy()).isTrue();
  }

  @Test
  void startsHealthy() {
    BackendHealth h = health(2, 3);
    assertThat(h.isHealthy()).isTrue();
    assertThat(h.stateSince()).isEqualTo(now);
    assertThat(h.lastCheck()).isNull();
    assertThat(h.backSinceNanos()).isZero();
  }

  @Test
  void countsFailedChecksAndChangesAndKeepsTheLastCheck() {
    BackendHealth h = health(1, 2);
    assertThat(h.lastCheckNanos()).isEqualTo(-1);
    h.probeFailed("connection refused", 1_500_000);
    assertThat(h.lastCheckPassed()).isFalse();
    assertThat(h.lastCheckNanos()).isEqualTo(1_500_000);
    tick(Duration.ofSeconds(2));
    h.probeFailed("connection refused", 2_000_000);
    assertThat(h.lastChange()).isEqualTo(now);
    tick(Duration.ofSeconds(2));
    h.probePassed("status 200", 700_000);
    h.admin(BackendHealth.Admin.DRAIN, "test");
    assertThat(h.checksFailed()).isEqualTo(2);
    assertThat(h.stateChanges()).as("DOWN, UP, DRAIN").isEqualTo(3);
    assertThat(h.lastCheckPassed()).isTrue();
    assertThat(h.lastCheckResult()).isEqualTo("status 200");
    assertThat(h.lastCheckNanos()).isEqualTo(700_000);
    assertThat(h.lastChange()).isEqualTo(now);
  }

  @Test
  void consecutiveFailuresTakeItOutAtTheThreshold() {
    BackendHealth h = health(2, 3);
    h.probeFailed("connection refused");
    tick(Duration.ofSeconds(2));
    h.probeFailed("connection refused");
    assertThat(h.isHealthy()).isTrue();
    assertThat(h.consecutiveFailures()).isEqualTo(2);
    tick(Duration.ofSeconds(2));
    h.probeFailed("timeout after 1000 ms");
    assertThat(h.isHealthy()).isFalse();
    assertThat(h.stateSince()).isEqualTo(now);
    assertThat(h.stateReason()).isEqualTo("3 consecutive failing probes, the last: timeout after 1000 ms");
    assertThat(changes).containsExactly("DOWN: 3 consecutive failing probes, the last: timeout after 1000 ms");
    h.probeFailed("again");
    assertThat(changes).as("a change is reported once").hasSize(1);
  }

  @Test
  void aPassResetsTheCountButTrafficNeverDoes() {
    BackendHealth h = health(2, 3);
    h.probeFailed("x");
    h.probeFailed("x");
    h.probePassed("status 200");
    assertThat(h.consecutiveFailures()).isZero();
    h.probeFailed("status 503");
    h.probeFailed("status 503");
    for (int i = 0; i < 100; i++) {
      h.trafficSucceeded();
      h.response(200);
    }
    assertThat(h.consecutiveFailures()).as("good traffic does not undo failing probes").isEqualTo(2);
    h.probeFailed("status 503");
    assertThat(h.isHealthy()).isFalse();
    assertThat(h.activeUp()).isFalse();
    assertThat(changes).containsExactly("DOWN: 3 consecutive failing probes, the last: status 503");
  }

  @Test
  void trafficFailuresNeverMarkTheActiveSignalDown() {
    BackendHealth h = health(2, 1);
    for (int i = 0; i < 10; i++) {
      h.trafficFailed("connection refused");
    }
    assertThat(h.activeUp()).isTrue();
    assertThat(h.consecutiveFailures()).isZero();
    assertThat(h.isHealthy()).as("passive checks are off in this policy").isTrue();
  }

  @Test
  void onlyConsecutivePassingProbesBringItBack() {
    BackendHealth h = health(2, 1);
    h.probeFailed("status 503");
    assertThat(h.isHealthy()).isFalse();
    h.trafficSucceeded();
    assertThat(h.isHealthy()).as("traffic does not bring a backend back").isFalse();
    h.probePassed("status 200");
    h.probeFailed("status 503");
    h.probePassed("status 200");
    assertThat(h.isHealthy()).isFalse();
    tick(Duration.ofSeconds(5));
    h.probePassed("status 204");
    assertThat(h.isHealthy()).isTrue();
    assertThat(h.stateSince()).isEqualTo(now);
    assertThat(h.backSinceNanos()).isEqualTo(nanos.get());
    assertThat(h.stateReason()).isEqualTo("2 consecutive passing probes (status 204)");
    assertThat(changes).containsExactly("DOWN: 1 consecutive failing probes, the last: status 503",
        "UP: 2 consecutive passing probes (status 204)");
  }

  @Test
  void probesRecordTheirLastResultAndTime() {
    BackendHealth h = health(2, 3);
    tick(Duration.ofSeconds(1));
    h.probePassed("status 200");
    assertThat(h.lastCheck()).isEqualTo(now);
    assertThat(h.lastCheckResult()).isEqualTo("status 200");
    tick(Duration.ofSeconds(1));
    h.trafficFailed("connection reset");
    assertThat(h.lastCheck()).as("traffic is not a check").isEqualTo(now.minusSeconds(1));
  }

  @Test
  void untrackedHealthNeverChanges() {
    BackendHealth h = BackendHealth.untracked();
    for (int i = 0; i < 10; i++) {
      h.probeFailed("x");
      h.trafficFailed("x");
    }
    assertThat(h.isHealthy()).isTrue();
    assertThat(h.consecutiveFailures()).isZero();
  }

  @Test
  void drainTakesItOutWhateverTheSignalsSayAndReadyBringsItBackThroughSlowStart() {
    BackendHealth h = health(2, 3);
    tick(Duration.ofSeconds(5));

    assertThat(h.admin(BackendHealth.Admin.DRAIN, "operator")).isTrue();
    assertThat(h.admin(BackendHealth.Admin.DRAIN, "again")).as("setting the same state again changes nothing")
        .isFalse();
    assertThat(h.isHealthy()).isFalse();
    assertThat(h.activeUp()).as("the probes' own state is untouched").isTrue();
    assertThat(h.admin()).isEqualTo(BackendHealth.Admin.DRAIN);
    assertThat(h.adminSince()).isEqualTo(now);
    h.probePassed("200");
    assertThat(h.isHealthy()).as("passing probes do not end a drain").isFalse();

    tick(Duration.ofSeconds(1));
    assertThat(h.admin(BackendHealth.Admin.READY, "operator")).isTrue();
    assertThat(h.isHealthy()).isTrue();
    assertThat(h.backSinceNanos()).as("slow start begins now").isEqualTo(nanos.get());
    assertThat(changes).containsExactly("DRAIN: operator", "READY: operator");
  }

  @Test
  void leavingMaintenanceNeedsTheHealthyThresholdOfPassingProbes() {
    BackendHealth h = health(2, 3);
    h.admin(BackendHealth.Admin.MAINT, "operator");
    assertThat(h.isHealthy()).isFalse();

    h.admin(BackendHealth.Admin.READY, "operator");
    assertThat(h.isHealthy()).as("down until its probes pass again").isFalse();
    assertThat(h.state()).isEqualTo(BackendHealth.State.UNHEALTHY);
    assertThat(h.stateReason()).isEqualTo("out of maintenance: back after 2 passing probes");
    h.probePassed("200");
    assertThat(h.isHealthy()).isFalse();
    h.probePassed("200");
    assertThat(h.isHealthy()).isTrue();
    assertThat(changes).containsExactly("MAINT: operator", "READY: operator", "UP: 2 consecutive passing probes (200)");
  }

  @Test
  void anUntrackedBackendLeavesMaintenanceAtOnce() {
    BackendHealth h = BackendHealth.untracked();
    h.admin(BackendHealth.Admin.MAINT, "operator");
    assertThat(h.isHealthy()).isFalse();
    h.admin(BackendHealth.Admin.READY, "operator");
    assertThat(h.isHealthy()).isTrue();
    assertThat(h.backSinceNanos()).isPositive();
  }
}
