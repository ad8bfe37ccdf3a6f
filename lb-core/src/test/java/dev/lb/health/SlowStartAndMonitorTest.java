package dev.lb.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendHealth;
import dev.lb.backend.HealthPolicy;
import dev.lb.balance.PickContext;
import dev.lb.balance.Picker;
import dev.lb.balance.RoundRobinBalancer;
import dev.lb.balance.Routing;
import dev.lb.balance.SlowStartProbe;
import dev.lb.config.BackendConfig;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Snapshots published on each change, and slow start's linear ramp. */
class SlowStartAndMonitorTest {
  private final AtomicLong nanos = new AtomicLong(1_000_000);
  private final HealthPolicy policy = new HealthPolicy(true, 1, 1);

  private Backend backend(int port) {
    return new Backend(new BackendConfig("http://127.0.0.1:" + port, "127.0.0.1", port, 1),
        new BackendHealth(policy, Clock.systemUTC(), nanos::get));
  }

  @Test
  void theMonitorPublishesASnapshotOnEveryChange() {
    Backend a = backend(1);
    Backend b = backend(2);
    HealthMonitor monitor = new HealthMonitor(List.of(a, b), new RoundRobinBalancer(), 0);
    List<Routing> published = new ArrayList<>();
    monitor.sink(published::add);
    assertThat(published).hasSize(1);
    assertThat(published.get(0).group().available()).containsExactly(a, b);

    b.health().probeFailed("connection refused");
    assertThat(published).hasSize(2);
    assertThat(published.get(1).group().available()).containsExactly(a);
    assertThat(monitor.current()).isSameAs(published.get(1));

    a.health().probeFailed("status 503");
    assertThat(published.get(2).group().available()).isEmpty();
    assertThat(published.get(2).picker().pick(PickContext.of("x"))).isNull();

    b.health().probePassed("status 200");
    assertThat(published.get(3).group().available()).containsExactly(b);
    assertThat(published.get(3).group().all()).containsExactly(a, b);
  }

  @Test
  void aMonitorBuiltEmptyAndThenGivenItsBackendsSaysNothing() {
    // As an upstream starts: no members, then its backends (or a DNS name's first answer).
    List<String> lines = monitorLines(() -> {
      HealthMonitor monitor = new HealthMonitor(List.of(), new RoundRobinBalancer(), 0);
      monitor.update(List.of(backend(1), backend(2)), new RoundRobinBalancer(), 0);
    });
    assertThat(lines).isEmpty();
  }

  /** The monitor's lines about traffic as a whole while {@code action} runs. */
  private static List<String> monitorLines(Runnable action) {
    List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
    org.apache.logging.log4j.core.LoggerContext context =
        (org.apache.logging.log4j.core.LoggerContext) org.apache.logging.log4j.LogManager.getContext(false);
    org.apache.logging.log4j.core.Logger logger = context.getLogger(HealthMonitor.class.getName());
    org.apache.logging.log4j.core.appender.AbstractAppender appender =
        new org.apache.logging.log4j.core.appender.AbstractAppender("monitor-lines", null, null, true,
            org.apache.logging.log4j.core.config.Property.EMPTY_ARRAY) {
          @Override
          public void append(org.apache.logging.log4j.core.LogEvent event) {
            String line = event.getMessage().getFormattedMessage();
            if (line.startsWith("no backend") || line.startsWith("traffic flows")) {
              lines.add(line);
            }
          }
        };
    appender.start();
    org.apache.logging.log4j.Level level = logger.getLevel();
    logger.addAppender(appender);
    logger.setLevel(org.apache.logging.log4j.Level.INFO);
    try {
      action.run();
    } finally {
      logger.removeAppender(appender);
      logger.setLevel(level);
    }
    return lines;
  }

  @Test
  void allBackendsGoneIsSaidOnceAndTheirReturnOnce() {
    Backend a = backend(1);
    Backend b = backend(2);
    HealthMonitor monitor = new HealthMonitor(List.of(a, b), new RoundRobinBalancer(), 0);
    List<String> lines = monitorLines(() -> {
      a.health().probeFailed("connection refused");
      b.health().probeFailed("connection refused");
      // More changes while none can take traffic: an operator's drain, a publish of its own.
      a.health().admin(BackendHealth.Admin.DRAIN, "test");
      monitor.publish();
      a.health().admin(BackendHealth.Admin.READY, "test");
      b.health().probePassed("status 200");
      a.health().probePassed("status 200");
    });
    assertThat(lines).containsExactly("no backend can take traffic: requests get 503 until one comes back",
        "traffic flows again: 1 of 2 backends can take it");
  }

  @Test
  void aReturningBackendsShareGrowsLinearlyOverTheSlowStart() {
    Backend a = backend(1);
    Backend b = backend(2);
    long slowStart = 10_000_000_000L;
    b.health().probeFailed("x");
    b.health().probePassed("status 200");
    HealthMonitor monitor = new HealthMonitor(List.of(a, b), new RoundRobinBalancer(), slowStart);
    Picker picker = SlowStartProbe.withClock(monitor.current().picker(), slowStart, nanos::get);

    Map<Double, Double> shareAt = new HashMap<>();
    for (double fraction : new double[] {0.0, 0.25, 0.5, 1.0}) {
      nanos.set(b.health().backSinceNanos() + (long) (fraction * slowStart));
      int toB = 0;
      for (int i = 0; i < 20_000; i++) {
        if (picker.pick(PickContext.of("x")) == b) {
          toB++;
        }
      }
      shareAt.put(fraction, toB / 20_000.0);
    }
    // b's effective weight grows linearly, f * 1 at fraction f of the ramp, so with a at weight 1 its share of
    // round robin's picks is f / (1 + f): 0, 0.2, 0.33, then its full half (as Envoy's slow start, aggression 1).
    assertThat(shareAt.get(0.0)).isLessThan(0.01);
    assertThat(shareAt.get(0.25)).isCloseTo(0.2, org.assertj.core.data.Offset.offset(0.02));
    assertThat(shareAt.get(0.5)).isCloseTo(1 / 3.0, org.assertj.core.data.Offset.offset(0.02));
    assertThat(shareAt.get(1.0)).isEqualTo(0.5);
  }

  @Test
  void backendsPresentAtStartAreNotRamped() {
    Backend a = backend(1);
    Backend b = backend(2);
    Picker picker = SlowStartProbe.withClock(
        new HealthMonitor(List.of(a, b), new RoundRobinBalancer(), 10_000_000_000L).current().picker(),
        10_000_000_000L, nanos::get);
    int toB = 0;
    for (int i = 0; i < 1000; i++) {
      if (picker.pick(PickContext.of("x")) == b) {
        toB++;
      }
    }
    assertThat(toB).isEqualTo(500);
  }
}
