package dev.lb.server.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.lb.config.StoreConfig;
import dev.lb.ratelimit.BucketLevel;
import dev.lb.ratelimit.ClientLimit;
import dev.lb.ratelimit.Limit;
import dev.lb.ratelimit.LimitRegistry;
import dev.lb.ratelimit.LimitSource;
import dev.lb.ratelimit.LimitStore;
import dev.lb.ratelimit.StoreException;
import dev.lb.server.testing.LogCapture;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.LogEvent;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The service on an H2 database in memory, one or two replicas at a time. */
class LimitsServiceTest {
  private static final Limit DEFAULT = new Limit(100, 10);
  private static final Limit CONFIGURED = new Limit(1000, 100);
  private static final Duration POLL = Duration.ofMillis(200);
  private static final Duration NO_POLL = Duration.ofHours(1);

  private final List<AutoCloseable> opened = new ArrayList<>();
  private StoreConfig config = StoreConfig.defaults();

  @BeforeEach
  void database() {
    config = new StoreConfig("jdbc:h2:mem:service-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "", "", POLL);
  }

  @AfterEach
  void closeAll() throws Exception {
    Collections.reverse(opened);
    for (AutoCloseable c : opened) {
      c.close();
    }
  }

  private static LimitRegistry registry() {
    return new LimitRegistry(DEFAULT, Map.of("10.0.0.7", CONFIGURED));
  }

  /** A store on the test database with a pool of its own, as another replica would have. */
  private TestStore store() throws StoreException {
    return new TestStore(JdbcLimitStore.open(config));
  }

  private LimitsService service(LimitRegistry registry, @Nullable LimitStore store, Duration poll) {
    return service(registry, store, poll, LimitsService.WRITE_TIMEOUT);
  }

  private LimitsService service(LimitRegistry registry, @Nullable LimitStore store, Duration poll, Duration timeout) {
    LimitsService service = new LimitsService(registry, store, poll, timeout);
    opened.add(service);
    return service;
  }

  @Test
  void startLoadsTheStoreIntoTheRegistry() throws Exception {
    try (JdbcLimitStore earlier = JdbcLimitStore.open(config)) {
      earlier.insert("user1", new Limit(5, 1));
      earlier.insert("10.0.0.7", new Limit(7, 2));
    }
    LimitRegistry registry = registry();
    service(registry, store(), NO_POLL).start();

    assertThat(registry.limitOf("user1")).isEqualTo(new Limit(5, 1));
    assertThat(registry.find("10.0.0.7")).isEqualTo(new ClientLimit("10.0.0.7", new Limit(7, 2), LimitSource.API));
    assertThat(registry.limitOf("someone")).isEqualTo(DEFAULT);
  }

  @Test
  void writesAreEnforcedByThisReplicaAtOnce() throws Exception {
    LimitRegistry registry = registry();
    TestStore store = store();
    LimitsService service = service(registry, store, NO_POLL);
    service.start();

    assertThat(service.create("user1", new Limit(5, 1)))
        .isEqualTo(new ClientLimit("user1", new Limit(5, 1), LimitSource.API));
    assertThat(registry.limitOf("user1")).isEqualTo(new Limit(5, 1));
    assertThat(service.create("user1", new Limit(6, 1))).as("exists: 409").isNull();
    assertThat(registry.limitOf("user1")).isEqualTo(new Limit(5, 1));

    assertThat(service.put("user1", new Limit(8, 2))).as("replaced").isFalse();
    assertThat(registry.limitOf("user1")).isEqualTo(new Limit(8, 2));
    assertThat(service.put("10.0.0.7", new Limit(9, 3))).as("created over the configuration's entry").isTrue();
    assertThat(service.get("10.0.0.7")).isEqualTo(new ClientLimit("10.0.0.7", new Limit(9, 3), LimitSource.API));

    assertThat(service.delete("10.0.0.7")).isTrue();
    assertThat(service.get("10.0.0.7")).isEqualTo(new ClientLimit("10.0.0.7", CONFIGURED, LimitSource.CONFIG));
    assertThat(service.delete("10.0.0.7")).as("no API entry: 404").isFalse();

    assertThat(service.list()).extracting(ClientLimit::clientId).containsExactly("10.0.0.7", "user1");
    assertThat(store.get("user1")).isEqualTo(new Limit(8, 2));
    assertThat(store.get("10.0.0.7")).isNull();
  }

  @Test
  void addressesAreStoredInTheFormTheProxySees() throws Exception {
    LimitRegistry registry = registry();
    TestStore store = store();
    LimitsService service = service(registry, store, NO_POLL);
    service.start();

    assertThat(service.create("0:0:0:0:0:0:0:1", new Limit(5, 1))).extracting(ClientLimit::clientId).isEqualTo("::1");
    assertThat(store.get("::1")).isEqualTo(new Limit(5, 1));
    assertThat(service.put("::ffff:10.1.2.3", new Limit(6, 1))).isTrue();
    assertThat(store.get("10.1.2.3")).isEqualTo(new Limit(6, 1));
    assertThat(registry.limitOf("10.1.2.3")).isEqualTo(new Limit(6, 1));
    assertThatThrownBy(() -> service.put("", new Limit(1, 1))).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anotherReplicaEnforcesAWriteWithinThePollInterval() throws Exception {
    LimitRegistry registryA = registry();
    LimitRegistry registryB = registry();
    LimitsService a = service(registryA, store(), POLL);
    LimitsService b = service(registryB, store(), POLL);
    a.start();
    b.start();

    long written = System.nanoTime();
    a.put("user1", new Limit(5, 1));
    await().atMost(POLL.multipliedBy(3)).pollInterval(Duration.ofMillis(10))
        .until(() -> new Limit(5, 1).equals(registryB.limitOf("user1")));
    // One poll interval, plus the poll's own time and the scheduler's slack on a busy machine.
    assertThat(Duration.ofNanos(System.nanoTime() - written)).isLessThan(POLL.multipliedBy(2));

    a.delete("user1");
    await().atMost(POLL.multipliedBy(3)).until(() -> !registryB.hasApiEntry("user1"));

    b.create("user2", new Limit(2, 2));
    await().atMost(POLL.multipliedBy(3)).until(() -> registryA.hasApiEntry("user2"));
  }

  @Test
  void aCreateRefusedBecauseOfAnotherReplicasEntryEnforcesThatEntryAtOnce() throws Exception {
    LimitRegistry registryA = registry();
    LimitRegistry registryB = registry();
    LimitsService a = service(registryA, store(), NO_POLL);
    LimitsService b = service(registryB, store(), NO_POLL);
    a.start();
    b.start();

    a.create("user1", new Limit(5, 1));
    assertThat(registryB.hasApiEntry("user1")).as("b has not polled").isFalse();
    assertThat(b.create("user1", new Limit(6, 1))).isNull();
    assertThat(registryB.limitOf("user1")).isEqualTo(new Limit(5, 1));

    a.delete("user1");
    assertThat(b.delete("user1")).isFalse();
    assertThat(registryB.hasApiEntry("user1")).isFalse();
  }

  @Test
  void duringAnOutageReadsAnswerWritesFailAndItIsLoggedOnceEachWay() throws Exception {
    LimitRegistry registry = registry();
    TestStore store = store();
    LimitsService service = service(registry, store, Duration.ofMillis(20));
    service.start();
    service.create("user1", new Limit(5, 1));

    try (LogCapture log = LogCapture.of(LimitsService.class, Level.INFO)) {
      store.down(true);
      assertThatThrownBy(() -> service.put("user1", new Limit(9, 9)))
          .isInstanceOf(StoreUnavailableException.class)
          .hasMessageContaining("connection refused");
      int polls = store.versionCalls();
      await().atMost(Duration.ofSeconds(5)).until(() -> store.versionCalls() >= polls + 10);
      assertThatThrownBy(() -> service.create("user2", new Limit(1, 1))).isInstanceOf(StoreUnavailableException.class);
      assertThatThrownBy(() -> service.delete("user1")).isInstanceOf(StoreUnavailableException.class);

      assertThat(service.get("user1")).isEqualTo(new ClientLimit("user1", new Limit(5, 1), LimitSource.API));
      assertThat(service.list()).hasSize(2);
      assertThat(registry.limitOf("user1")).as("still enforced").isEqualTo(new Limit(5, 1));
      List<LogEvent> down = log.events();
      assertThat(down).hasSize(1);
      assertThat(down.get(0).getLevel()).isEqualTo(Level.WARN);
      assertThat(down.get(0).getMessage().getFormattedMessage())
          .contains("store unavailable")
          .contains("connection refused")
          .doesNotContain("\n");
      assertThat(down.get(0).getThrown()).as("one line, no stack trace").isNull();

      store.down(false);
      await().atMost(Duration.ofSeconds(5)).until(() -> log.events().size() == 2);
      int after = store.versionCalls();
      await().atMost(Duration.ofSeconds(5)).until(() -> store.versionCalls() >= after + 10);
      assertThat(service.put("user1", new Limit(9, 9))).isFalse();

      List<LogEvent> events = log.events();
      assertThat(events).hasSize(2);
      assertThat(events.get(1).getLevel()).isEqualTo(Level.INFO);
      assertThat(events.get(1).getMessage().getFormattedMessage()).startsWith("store available again after ");
    }
    assertThat(registry.limitOf("user1")).isEqualTo(new Limit(9, 9));
  }

  @Test
  void aWriteTheStoreDoesNotAnswerInTimeFails() throws Exception {
    LimitRegistry registry = registry();
    TestStore store = store();
    LimitsService service = service(registry, store, NO_POLL, Duration.ofMillis(300));
    service.start();
    CountDownLatch release = new CountDownLatch(1);
    store.hangUntil(release);

    long start = System.nanoTime();
    assertThatThrownBy(() -> service.put("user1", new Limit(5, 1)))
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessage("the store did not answer within 300ms");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));

    store.hangUntil(null);
    release.countDown();
    // The write was under way: it completes, reaching the store and this registry, as a poll would have.
    await().atMost(Duration.ofSeconds(5)).until(() -> registry.hasApiEntry("user1"));
    assertThat(service.put("user2", new Limit(6, 1))).isTrue();
  }

  @Test
  void startFailsWhenTheStoreCannotBeRead() throws Exception {
    TestStore store = store();
    store.down(true);
    LimitsService service = service(registry(), store, POLL);

    assertThatThrownBy(service::start).isInstanceOf(StoreException.class).hasMessageContaining("connection refused");
  }

  @Test
  void bucketLevelsSurviveARestart() throws Exception {
    // Both engines keep TIMESTAMP to the microsecond and round finer digits (a clock with nanoseconds could round
    // .2449996 up to the next millisecond), so the saved instant is one the column holds exactly.
    Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
    List<BucketLevel> levels = List.of(new BucketLevel("user1", 3.5, now), new BucketLevel("::1", 0, now));
    try (LogCapture log = LogCapture.of(LimitsService.class, Level.INFO)) {
      LimitsService before = service(registry(), store(), NO_POLL);
      before.start();
      before.saveLevels(levels);
      before.close();

      LimitsService after = service(registry(), store(), NO_POLL);
      after.start();
      Collection<BucketLevel> restored = after.restoreLevels();

      assertThat(restored).hasSize(2);
      for (BucketLevel level : restored) {
        BucketLevel saved = level.clientId().equals("user1") ? levels.get(0) : levels.get(1);
        assertThat(level.tokens()).isEqualTo(saved.tokens());
        assertThat(level.savedAt()).isEqualTo(saved.savedAt());
      }
      assertThat(messages(log)).contains("bucket levels: 2 saved to the store", "bucket levels: 2 restored from the store");
    }
  }

  @Test
  void bucketLevelFailuresAreLoggedNotThrown() throws Exception {
    TestStore store = store();
    LimitsService service = service(registry(), store, NO_POLL);
    service.start();
    store.down(true);

    try (LogCapture log = LogCapture.of(LimitsService.class, Level.INFO)) {
      service.saveLevels(List.of(new BucketLevel("user1", 1, Instant.now())));
      assertThat(service.restoreLevels()).isEmpty();

      assertThat(messages(log)).containsExactly(
          "store unavailable, limits as last read stay in force and /clients writes answer 503: "
              + "store test: connection refused",
          "bucket levels: 1 not saved: store test: connection refused",
          "bucket levels: none restored: store test: connection refused");
    }
  }

  @Test
  void everyStoreCallRunsOnTheStoreThread() throws Exception {
    TestStore store = store();
    LimitsService service = service(registry(), store, Duration.ofMillis(20));
    service.start();
    service.create("user1", new Limit(5, 1));
    service.create("user1", new Limit(5, 1));
    service.put("user2", new Limit(5, 1));
    service.delete("user2");
    service.saveLevels(List.of(new BucketLevel("user1", 1, Instant.now())));
    service.restoreLevels();
    int polls = store.versionCalls();
    await().atMost(Duration.ofSeconds(5)).until(() -> store.versionCalls() >= polls + 3);
    service.close();

    assertThat(store.threads()).containsExactly(LimitsService.THREAD_NAME);
  }

  @Test
  void closeStopsPollingAndClosesTheStore() throws Exception {
    JdbcLimitStore jdbc = JdbcLimitStore.open(config);
    TestStore store = new TestStore(jdbc);
    LimitsService service = service(registry(), store, Duration.ofMillis(20));
    service.start();
    service.close();
    service.close();

    int polls = store.versionCalls();
    Thread.sleep(100);
    assertThat(store.versionCalls()).isEqualTo(polls);
    assertThatThrownBy(jdbc::version).isInstanceOf(StoreException.class);
    assertThatThrownBy(() -> service.put("user1", new Limit(1, 1))).isInstanceOf(StoreUnavailableException.class);
  }

  @Test
  void withoutAStoreReadsComeFromTheConfigurationAndWritesFail() throws Exception {
    LimitsService service = service(registry(), null, POLL);
    service.start();

    assertThat(service.list()).containsExactly(new ClientLimit("10.0.0.7", CONFIGURED, LimitSource.CONFIG));
    assertThat(service.get("user1")).isNull();
    assertThatThrownBy(() -> service.create("user1", new Limit(1, 1))).isInstanceOf(StoreUnavailableException.class);
    assertThat(service.restoreLevels()).isEmpty();
    service.saveLevels(List.of(new BucketLevel("user1", 1, Instant.now())));
  }

  private static List<String> messages(LogCapture log) {
    return log.events().stream().map(e -> e.getMessage().getFormattedMessage()).toList();
  }
}
