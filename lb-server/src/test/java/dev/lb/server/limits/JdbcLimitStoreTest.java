package dev.lb.server.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lb.config.StoreConfig;
import dev.lb.ratelimit.BucketLevel;
import dev.lb.ratelimit.Limit;
import dev.lb.ratelimit.StoreException;
import java.io.IOException;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The store's behaviour, written once and run on each engine by a subclass: H2 in memory, PostgreSQL.
 */
abstract class JdbcLimitStoreTest {
  private final List<JdbcLimitStore> opened = new ArrayList<>();
  /** A new, empty database for each test. */
  StoreConfig config = StoreConfig.defaults();

  /** A configuration naming a new, empty database. */
  abstract StoreConfig emptyDatabase() throws Exception;

  /** Removes what {@link #emptyDatabase()} created. */
  abstract void dropDatabase() throws Exception;

  /** A URL of this engine naming a server at a port where nothing listens, with a password in it. */
  abstract String unreachableUrl(int port, String password);

  @BeforeEach
  final void createDatabase() throws Exception {
    config = emptyDatabase();
  }

  @AfterEach
  final void closeAndDrop() throws Exception {
    opened.forEach(JdbcLimitStore::close);
    dropDatabase();
  }

  JdbcLimitStore open() throws StoreException {
    JdbcLimitStore store = JdbcLimitStore.open(config);
    opened.add(store);
    return store;
  }

  /** A plain connection to the test database, beside the store's pool. */
  Connection connect() throws SQLException {
    String url = StoreUrls.isH2(config.url()) ? StoreUrls.withH2Settings(config.url()) : config.url();
    return DriverManager.getConnection(url, config.username(), config.password());
  }

  long count(String table) throws SQLException {
    try (Connection c = connect();
        Statement s = c.createStatement();
        ResultSet rows = s.executeQuery("SELECT COUNT(*) FROM " + table)) {
      rows.next();
      return rows.getLong(1);
    }
  }

  /** Rows of Flyway's history that are migrations (it also records creating its own table). */
  long migrationsApplied() throws SQLException {
    return count(JdbcLimitStore.HISTORY_TABLE + " WHERE type = 'SQL' AND success");
  }

  @Test
  void migratesAnEmptyDatabaseAndASecondOpenChangesNothing() throws Exception {
    JdbcLimitStore first = open();
    assertThat(first.loadAll()).isEmpty();
    assertThat(first.loadLevels()).isEmpty();
    assertThat(first.version()).isZero();
    assertThat(migrationsApplied()).isEqualTo(1);
    assertThat(count("lb_meta")).isEqualTo(1);
    first.insert("user1", new Limit(10, 1));
    first.close();

    JdbcLimitStore second = open();
    assertThat(migrationsApplied()).isEqualTo(1);
    assertThat(count("lb_meta")).isEqualTo(1);
    assertThat(second.loadAll()).containsExactly(Map.entry("user1", new Limit(10, 1)));
    assertThat(second.version()).isEqualTo(1);
  }

  @Test
  void insertAddsAClientOnceAndLeavesAnExistingOneAlone() throws Exception {
    JdbcLimitStore store = open();
    assertThat(store.insert("user1", new Limit(100, 10))).isTrue();
    assertThat(store.insert("user1", new Limit(5, 0.5))).isFalse();
    assertThat(store.get("user1")).isEqualTo(new Limit(100, 10));
  }

  @Test
  void upsertCreatesThenReplaces() throws Exception {
    JdbcLimitStore store = open();
    assertThat(store.upsert("user1", new Limit(100, 10))).isTrue();
    assertThat(store.get("user1")).isEqualTo(new Limit(100, 10));
    assertThat(store.upsert("user1", new Limit(7, 0.25))).isFalse();
    assertThat(store.get("user1")).isEqualTo(new Limit(7, 0.25));
    assertThat(store.loadAll()).hasSize(1);
  }

  @Test
  void deleteRemovesAClientAndReportsAMissingOne() throws Exception {
    JdbcLimitStore store = open();
    store.insert("user1", new Limit(100, 10));
    assertThat(store.delete("user1")).isTrue();
    assertThat(store.get("user1")).isNull();
    assertThat(store.delete("user1")).isFalse();
    assertThat(store.delete("never")).isFalse();
  }

  @Test
  void getKeepsEveryValueExactly() throws Exception {
    JdbcLimitStore store = open();
    String longId = "ü".repeat(256) + "x".repeat(256);
    store.insert(longId, new Limit(Limit.MAX_CAPACITY, 0.001));
    store.insert("::1", new Limit(1, Limit.MAX_RATE));
    store.insert("Case", new Limit(3, 1.0 / 3));

    assertThat(store.get(longId)).isEqualTo(new Limit(Limit.MAX_CAPACITY, 0.001));
    assertThat(store.get("::1")).isEqualTo(new Limit(1, Limit.MAX_RATE));
    assertThat(store.get("Case")).isEqualTo(new Limit(3, 1.0 / 3));
    assertThat(store.get("case")).as("ids are case-sensitive").isNull();
    assertThat(store.get("nobody")).isNull();
  }

  @Test
  void loadAllReturnsEveryClient() throws Exception {
    JdbcLimitStore store = open();
    Map<String, Limit> expected =
        IntStream.range(0, 50).boxed().collect(Collectors.toMap(i -> "client-" + i, i -> new Limit(i + 1, i + 0.5)));
    for (Map.Entry<String, Limit> e : expected.entrySet()) {
      store.upsert(e.getKey(), e.getValue());
    }
    store.delete("client-7");

    Map<String, Limit> all = store.loadAll();
    assertThat(all).hasSize(49).doesNotContainKey("client-7");
    assertThat(all).containsEntry("client-0", new Limit(1, 0.5)).containsEntry("client-49", new Limit(50, 49.5));
  }

  @Test
  void versionChangesOnEveryWriteAndNotOtherwise() throws Exception {
    JdbcLimitStore store = open();
    List<Long> seen = new ArrayList<>();
    seen.add(store.version());

    store.insert("a", new Limit(1, 1));
    seen.add(store.version());
    store.upsert("a", new Limit(2, 1));
    seen.add(store.version());
    store.upsert("a", new Limit(2, 1));
    seen.add(store.version());
    store.upsert("b", new Limit(2, 1));
    seen.add(store.version());
    store.delete("b");
    seen.add(store.version());
    assertThat(seen).doesNotHaveDuplicates().isSorted();

    long before = store.version();
    store.insert("a", new Limit(9, 9));
    store.delete("b");
    store.get("a");
    store.loadAll();
    store.saveLevels(List.of(new BucketLevel("a", 1, Instant.now())));
    store.loadLevels();
    assertThat(store.version()).as("no change of a limit, no new version").isEqualTo(before);
  }

  @Test
  void levelsRoundTripAndALaterSaveReplacesEarlierOnes() throws Exception {
    JdbcLimitStore store = open();
    Instant t0 = Instant.parse("2026-11-05T10:15:30.123456Z");
    store.saveLevels(List.of(new BucketLevel("a", 0, t0), new BucketLevel("b", 12.5, t0), new BucketLevel("::1", 3,
        t0)));
    Instant t1 = t0.plusSeconds(60);
    store.saveLevels(List.of(new BucketLevel("b", 1.25, t1), new BucketLevel("c", 99, t1)));

    Map<String, BucketLevel> loaded = byClient(store.loadLevels());
    assertThat(loaded).hasSize(4);
    assertLevel(loaded.get("a"), 0, t0);
    assertLevel(loaded.get("b"), 1.25, t1);
    assertLevel(loaded.get("c"), 99, t1);
    assertLevel(loaded.get("::1"), 3, t0);
    assertThat(store.loadAll()).as("levels are not limits").isEmpty();
  }

  @Test
  void levelsAreSavedInBatchesAndOnePerClient() throws Exception {
    JdbcLimitStore store = open();
    // TIMESTAMP keeps microseconds (finer digits are rounded): save an instant the column holds exactly.
    Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
    List<BucketLevel> levels = new ArrayList<>();
    for (int i = 0; i < 1_234; i++) {
      levels.add(new BucketLevel("client-" + i, i, now));
    }
    store.saveLevels(levels.subList(0, 700));
    // The same client twice in one call: the later level wins.
    levels.add(new BucketLevel("client-3", 42, now));
    store.saveLevels(levels);

    Map<String, BucketLevel> loaded = byClient(store.loadLevels());
    assertThat(loaded).hasSize(1_234);
    assertLevel(loaded.get("client-3"), 42, now);
    assertLevel(loaded.get("client-1233"), 1233, now);
  }

  @Test
  void oneSaveKeepsTheFirstHundredThousandClients() throws Exception {
    JdbcLimitStore store = open();
    Instant now = Instant.now();
    List<BucketLevel> levels = new ArrayList<>();
    for (int i = 0; i <= LevelTable.MAX_LEVELS; i++) {
      levels.add(new BucketLevel("c" + i, 1, now));
    }
    store.saveLevels(levels);

    assertThat(count("lb_bucket_levels")).isEqualTo(LevelTable.MAX_LEVELS);
    assertThat(byClient(store.loadLevels())).containsKey("c0").containsKey("c99999").doesNotContainKey("c100000");
  }

  @Test
  void aSecondStoreOnTheSameDatabaseSeesTheFirstOnesWrites() throws Exception {
    JdbcLimitStore a = open();
    JdbcLimitStore b = open();
    long version = b.version();

    assertThat(a.insert("user1", new Limit(100, 10))).isTrue();
    assertThat(b.version()).isNotEqualTo(version);
    assertThat(b.get("user1")).isEqualTo(new Limit(100, 10));
    assertThat(b.insert("user1", new Limit(1, 1))).isFalse();

    assertThat(b.upsert("user1", new Limit(50, 5))).isFalse();
    assertThat(a.loadAll()).containsExactly(Map.entry("user1", new Limit(50, 5)));

    assertThat(b.delete("user1")).isTrue();
    assertThat(a.get("user1")).isNull();
    assertThat(a.delete("user1")).isFalse();

    b.saveLevels(List.of(new BucketLevel("user1", 4, Instant.now())));
    assertThat(a.loadLevels()).hasSize(1);
  }

  @Test
  void concurrentWritersOfOneNewClientCreateItOnce() throws Exception {
    JdbcLimitStore a = open();
    JdbcLimitStore b = open();
    int writers = 8;
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    try {
      for (int round = 0; round < 5; round++) {
        String id = "raced-" + round;
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> upserts = new ArrayList<>();
        List<Future<Boolean>> inserts = new ArrayList<>();
        for (int i = 0; i < writers; i++) {
          JdbcLimitStore store = i % 2 == 0 ? a : b;
          Limit limit = new Limit(i + 1, 1);
          upserts.add(pool.submit(awaiting(go, () -> store.upsert(id, limit))));
          inserts.add(pool.submit(awaiting(go, () -> store.insert(id + "-i", limit))));
        }
        go.countDown();
        assertThat(created(upserts)).as("upserts creating " + id).isEqualTo(1);
        assertThat(created(inserts)).as("inserts creating " + id).isEqualTo(1);
      }
      assertThat(a.loadAll()).hasSize(10);
      assertThat(a.version()).as("one version per write that changed a row").isEqualTo(5 * (writers + 1));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void anUnreachableDatabaseFailsOpenWithOneLineNamingTheCause() throws Exception {
    int port = closedPort();
    String url = unreachableUrl(port, "hunter2");
    StoreConfig unreachable = new StoreConfig(url, "", "", Duration.ofSeconds(5));

    long start = System.nanoTime();
    assertThatThrownBy(() -> JdbcLimitStore.open(unreachable))
        .isInstanceOf(StoreException.class)
        .hasMessageStartingWith("store " + url.replace("hunter2", "***") + ": ")
        .hasMessageContaining("connection refused")
        .hasMessageNotContaining("\n")
        .hasMessageNotContaining("hunter2");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void callsAfterCloseFailWithAStoreException() throws Exception {
    JdbcLimitStore store = open();
    store.close();
    assertThatThrownBy(store::version).isInstanceOf(StoreException.class).hasMessageStartingWith("store ");
  }

  static int closedPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static <T> Callable<T> awaiting(CountDownLatch go, Callable<T> call) {
    return () -> {
      go.await();
      return call.call();
    };
  }

  private static long created(List<Future<Boolean>> outcomes) throws Exception {
    long created = 0;
    for (Future<Boolean> outcome : outcomes) {
      if (outcome.get()) {
        created++;
      }
    }
    return created;
  }

  private static Map<String, BucketLevel> byClient(List<BucketLevel> levels) {
    return Collections.unmodifiableMap(
        levels.stream().collect(Collectors.toMap(BucketLevel::clientId, Function.identity())));
  }

  private static void assertLevel(BucketLevel level, double tokens, Instant savedAt) {
    assertThat(level.tokens()).isEqualTo(tokens);
    assertThat(level.savedAt()).isEqualTo(savedAt);
  }
}
