package dev.lb.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendHealth;
import dev.lb.backend.HealthPolicy;
import dev.lb.balance.RoundRobinBalancer;
import dev.lb.balance.Routing;
import dev.lb.config.BackendConfig;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Passive health checks (outlier detection) apart from the active ones: ejection at the error threshold, lengths that
 * grow with recent ejections and decay, the share of backends that may be ejected, and the return, with a driven
 * clock and a timer whose tasks the test runs.
 */
class OutlierDetectionTest {
  private static final long SECOND = 1_000_000_000L;

  private Instant now = Instant.parse("2026-01-01T00:00:00Z");
  private final AtomicLong nanos = new AtomicLong(1_000);
  private final CapturingTimer timer = new CapturingTimer();
  private final List<String> published = new ArrayList<>();

  /** Five errors eject for 30 s (at most 300 s), up to half of the backends; active checks with 2/3. */
  private final HealthPolicy policy = new HealthPolicy(true, 2, 3,
      new HealthPolicy.Passive(true, 5, false, 30 * SECOND, 300 * SECOND, 50));

  private final Clock clock = new Clock() {
    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  };

  @AfterEach
  void stopTimer() {
    timer.shutdownNow();
  }

  private Backend backend(int port, HealthPolicy p) {
    return new Backend(new BackendConfig("http://127.0.0.1:" + port, "127.0.0.1", port, 1),
        new BackendHealth(p, clock, nanos::get));
  }

  private List<Backend> backends(int n) {
    List<Backend> list = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      list.add(backend(8000 + i, policy));
    }
    return list;
  }

  private HealthMonitor monitor(List<Backend> list) {
    HealthMonitor m = new HealthMonitor(list, new RoundRobinBalancer(), 0, timer);
    m.sink(r -> published.add(available(r)));
    return m;
  }

  private static String available(Routing r) {
    List<String> ports = new ArrayList<>();
    for (Backend b : r.group().available()) {
      ports.add(Integer.toString(b.port()));
    }
    return String.join(",", ports);
  }

  private void tick(Duration d) {
    now = now.plus(d);
    nanos.addAndGet(d.toNanos());
  }

  private static void fail(Backend b, int times) {
    for (int i = 0; i < times; i++) {
      b.health().trafficFailed("connection reset");
    }
  }

  @Test
  void consecutiveErrorsEjectForTheBaseTimeThenTheBackendReturnsThroughSlowStart() {
    List<Backend> list = backends(3);
    monitor(list);
    Backend b = list.get(0);

    fail(b, 4);
    b.health().response(200);
    fail(b, 4);
    assertThat(b.health().ejected()).as("a good response resets the count").isFalse();
    assertThat(b.health().consecutiveErrors()).isEqualTo(4);

    fail(b, 1);
    assertThat(b.health().ejected()).isTrue();
    assertThat(b.health().isHealthy()).isFalse();
    assertThat(b.health().activeUp()).as("the active signal is untouched").isTrue();
    assertThat(b.health().ejections()).isEqualTo(1);
    assertThat(b.health().ejectedUntil()).isEqualTo(now.plusSeconds(30));
    assertThat(published).last().isEqualTo("8001,8002");
    assertThat(timer.delays).containsExactly(30 * SECOND);

    tick(Duration.ofSeconds(30));
    timer.runAll();
    assertThat(b.health().ejected()).isFalse();
    assertThat(b.health().ejectedUntil()).isNull();
    assertThat(b.health().backSinceNanos()).as("slow start counts from the return").isEqualTo(nanos.get());
    assertThat(published).last().isEqualTo("8000,8001,8002");
  }

  @Test
  void eachRecentEjectionLengthensTheNextUpToTheMaximumAndTimeInRotationShortensItAgain() {
    List<Backend> list = backends(2);
    monitor(list);
    Backend b = list.get(0);
    List<Long> lengths = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      fail(b, 5);
      lengths.add(timer.delays.get(timer.delays.size() - 1) / SECOND);
      timer.runAll();
    }
    assertThat(lengths).containsExactly(30L, 60L, 90L, 120L, 150L, 180L, 210L, 240L, 270L, 300L, 300L, 300L);

    // 12 ejections: after 300 s back in rotation (10 base times) the multiplier is down to 2, so the next is 90 s.
    tick(Duration.ofSeconds(300));
    fail(b, 5);
    assertThat(timer.delays.get(timer.delays.size() - 1) / SECOND).isEqualTo(90L);
    assertThat(b.health().ejections()).isEqualTo(13);
  }

  @Test
  void neverMoreThanMaxEjectionPercentOfTheBackendsAreEjected() {
    List<Backend> list = backends(5);
    monitor(list);
    for (int i = 0; i < 3; i++) {
      fail(list.get(i), 5);
    }
    assertThat(list.get(0).health().ejected()).isTrue();
    assertThat(list.get(1).health().ejected()).isTrue();
    assertThat(list.get(2).health().ejected()).as("two of five is the 50% cap").isFalse();
    assertThat(list.get(2).health().consecutiveErrors()).as("counting starts over").isZero();
    assertThat(published).last().isEqualTo("8002,8003,8004");

    fail(list.get(2), 5);
    assertThat(list.get(2).health().ejected()).isFalse();

    tick(Duration.ofSeconds(30));
    timer.runAll();
    fail(list.get(2), 5);
    assertThat(list.get(2).health().ejected()).as("room again once the others returned").isTrue();
  }

  @Test
  void atLeastOneBackendMayBeEjectedAndZeroPercentEjectsNone() {
    assertThat(policy.passive().maxEjected(1)).isEqualTo(1);
    assertThat(policy.passive().maxEjected(3)).isEqualTo(1);
    assertThat(policy.passive().maxEjected(10)).isEqualTo(5);
    assertThat(new HealthPolicy.Passive(true, 5, false, SECOND, SECOND, 0).maxEjected(10)).isZero();
    assertThat(HealthPolicy.Passive.OFF.maxEjected(10)).isZero();
  }

  @Test
  void fiveHundredsCountOnlyWhenConfigured() {
    HealthPolicy counting = new HealthPolicy(true, 2, 3,
        new HealthPolicy.Passive(true, 3, true, 30 * SECOND, 300 * SECOND, 100));
    Backend counted = backend(9001, counting);
    Backend ignored = backend(9002, policy);
    monitor(List.of(counted, ignored));
    for (int i = 0; i < 5; i++) {
      counted.health().response(503);
      ignored.health().response(503);
    }
    assertThat(counted.health().ejected()).isTrue();
    assertThat(counted.health().lastError()).isEqualTo("status 503");
    assertThat(ignored.health().ejected()).isFalse();
    assertThat(ignored.health().consecutiveErrors()).isZero();
  }

  @Test
  void withActiveChecksOffPassiveEjectionStillWorks() {
    HealthPolicy passiveOnly = new HealthPolicy(false, 2, 3, policy.passive());
    List<Backend> list = List.of(backend(8000, passiveOnly), backend(8001, passiveOnly));
    monitor(list);
    list.get(0).health().probeFailed("status 503");
    assertThat(list.get(0).health().isHealthy()).as("probes are not tracked").isTrue();
    fail(list.get(0), 5);
    assertThat(list.get(0).health().isHealthy()).isFalse();
    assertThat(published).last().isEqualTo("8001");
  }

  @Test
  void theTwoSignalsAreIndependent() {
    List<Backend> list = backends(2);
    monitor(list);
    Backend b = list.get(0);
    fail(b, 5);
    for (int i = 0; i < 3; i++) {
      b.health().probeFailed("status 503");
    }
    assertThat(b.health().ejected()).isTrue();
    assertThat(b.health().activeUp()).isFalse();

    tick(Duration.ofSeconds(30));
    timer.runAll();
    assertThat(b.health().ejected()).isFalse();
    assertThat(b.health().isHealthy()).as("still down by the probes").isFalse();
    assertThat(published).last().isEqualTo("8001");

    b.health().probePassed("status 200");
    b.health().probePassed("status 200");
    assertThat(b.health().isHealthy()).isTrue();
    assertThat(published).last().isEqualTo("8000,8001");
  }

  @Test
  void turningOutlierDetectionOffEndsEjections() {
    List<Backend> list = backends(2);
    HealthMonitor m = monitor(list);
    fail(list.get(0), 5);
    assertThat(list.get(0).health().ejected()).isTrue();
    HealthPolicy off = new HealthPolicy(true, 2, 3, HealthPolicy.Passive.OFF);
    list.forEach(b -> b.health().policy(off));
    m.update(list, new RoundRobinBalancer(), 0);
    assertThat(list.get(0).health().ejected()).isFalse();
    assertThat(published).last().isEqualTo("8000,8001");
  }

  /** A timer that records what is scheduled and runs it when the test says. */
  private static final class CapturingTimer extends ScheduledThreadPoolExecutor {
    final List<Long> delays = new ArrayList<>();
    final List<Runnable> tasks = new ArrayList<>();

    CapturingTimer() {
      super(1);
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable task, long delay, TimeUnit unit) {
      delays.add(unit.toNanos(delay));
      tasks.add(task);
      return super.schedule(() -> {}, 1, TimeUnit.DAYS);
    }

    void runAll() {
      List<Runnable> due = new ArrayList<>(tasks);
      tasks.clear();
      due.forEach(Runnable::run);
    }
  }
}
