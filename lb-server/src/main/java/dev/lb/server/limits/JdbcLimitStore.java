package dev.lb.server.limits;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.lb.config.StoreConfig;
import dev.lb.ratelimit.BucketLevel;
import dev.lb.ratelimit.Limit;
import dev.lb.ratelimit.LimitStore;
import dev.lb.ratelimit.StoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.jspecify.annotations.Nullable;

/**
 * The {@link LimitStore} in a database reached by JDBC: PostgreSQL for replicas that share limits, or an embedded H2
 * file for a single instance. A small connection pool, the schema kept by Flyway migrations of its own, and plain SQL
 * that both engines run (H2 in its PostgreSQL mode).
 *
 * <p>Every change of {@code lb_clients} increments {@code lb_meta.version} in the same transaction, so {@link #version}
 * is one indexed row to poll, and it changes exactly when a limit did, in commit order.
 */
public final class JdbcLimitStore implements LimitStore {
  private static final Logger LOG = LogManager.getLogger(JdbcLimitStore.class);

  /** The migrations' own location, so that nothing else on the class path is run against the store. */
  static final String MIGRATIONS = "classpath:db/migration/lb";
  /** Flyway's bookkeeping table, named for lb so that a database shared with another application keeps both apart. */
  static final String HISTORY_TABLE = "lb_schema_history";
  static final String POOL_NAME = "lb-store";
  /** All store calls run on one thread; the spare connections serve a second replica's-worth of bursts and tests. */
  private static final int POOL_SIZE = 4;
  /** Short, so that an outage turns into a failed call (and a 503) quickly instead of a hung admin request. */
  private static final long CONNECTION_TIMEOUT_MS = 2_000;
  /** An upsert that keeps meeting other replicas' inserts and deletes of the same client gives up after this. */
  private static final int UPSERT_ATTEMPTS = 3;

  private static final String SELECT_ALL = "SELECT client_id, capacity, rate_per_sec FROM lb_clients";
  private static final String SELECT_ONE = "SELECT capacity, rate_per_sec FROM lb_clients WHERE client_id = ?";
  private static final String SELECT_VERSION = "SELECT version FROM lb_meta WHERE id = 1";
  private static final String BUMP_VERSION = "UPDATE lb_meta SET version = version + 1 WHERE id = 1";
  /** Without a conflict target: the form H2's PostgreSQL mode accepts; the primary key is the only unique key. */
  private static final String INSERT =
      "INSERT INTO lb_clients (client_id, capacity, rate_per_sec, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING";
  private static final String UPDATE =
      "UPDATE lb_clients SET capacity = ?, rate_per_sec = ?, updated_at = ? WHERE client_id = ?";
  private static final String DELETE = "DELETE FROM lb_clients WHERE client_id = ?";

  private enum Upsert {
    CREATED,
    REPLACED,
    /** Neither found nor inserted: another replica inserted (or deleted) the client meanwhile. */
    RACED
  }

  private final HikariDataSource pool;
  private final Jdbc jdbc;
  private final LevelTable levels;

  private JdbcLimitStore(HikariDataSource pool, String shownUrl) {
    this.pool = pool;
    this.jdbc = new Jdbc(pool, shownUrl);
    this.levels = new LevelTable(jdbc);
  }

  /**
   * Connects, and creates or upgrades the schema.
   *
   * @throws StoreException when the database cannot be reached or migrated; the message is one line such as
   *     {@code store jdbc:postgresql://db:5432/lb: connection refused}, with any password masked
   */
  public static JdbcLimitStore open(StoreConfig config) throws StoreException {
    String shownUrl = StoreUrls.mask(config.url());
    String url = StoreUrls.isH2(config.url()) ? StoreUrls.withH2Settings(config.url()) : config.url();
    createDirectory(url, shownUrl);
    HikariDataSource pool;
    try {
      pool = new HikariDataSource(poolConfig(url, config));
    } catch (RuntimeException e) {
      // The pool tries one connection at once: an unreachable database fails here, in at most the connect timeout.
      throw new StoreException("store " + shownUrl + ": " + StoreErrors.cause(e), e);
    }
    try {
      MigrateResult result =
          Flyway.configure(JdbcLimitStore.class.getClassLoader())
              .dataSource(pool)
              .locations(MIGRATIONS)
              .table(HISTORY_TABLE)
              .failOnMissingLocations(true)
              .load()
              .migrate();
      logMigration(shownUrl, result);
    } catch (RuntimeException e) {
      pool.close();
      throw new StoreException("store " + shownUrl + ": " + StoreErrors.cause(e), e);
    }
    return new JdbcLimitStore(pool, shownUrl);
  }

  private static void logMigration(String shownUrl, MigrateResult result) {
    String version = result.targetSchemaVersion != null ? result.targetSchemaVersion : result.initialSchemaVersion;
    if (result.migrationsExecuted == 0) {
      LOG.info("store {}: schema version {}, up to date", shownUrl, version);
    } else {
      LOG.info("store {}: schema migrated from {} to version {}", shownUrl,
          result.initialSchemaVersion == null ? "empty" : "version " + result.initialSchemaVersion, version);
    }
  }

  private static HikariConfig poolConfig(String url, StoreConfig config) {
    HikariConfig pool = new HikariConfig();
    pool.setPoolName(POOL_NAME);
    pool.setJdbcUrl(url);
    // Empty means "not set": credentials in the URL (PostgreSQL's ?user=) then apply, and H2's default user.
    if (!config.username().isEmpty()) {
      pool.setUsername(config.username());
    }
    if (!config.password().isEmpty()) {
      pool.setPassword(config.password());
    }
    if (url.regionMatches(true, 0, "jdbc:postgresql:", 0, 16)) {
      // Defaults only: the same parameters in the URL win. A read that hangs on a dead network (where the query
      // timeout's cancel request cannot get through either) ends after socketTimeout; the name shows in
      // pg_stat_activity.
      pool.addDataSourceProperty("socketTimeout", "30");
      pool.addDataSourceProperty("ApplicationName", "lb");
    }
    pool.setMaximumPoolSize(POOL_SIZE);
    pool.setMinimumIdle(1);
    pool.setConnectionTimeout(CONNECTION_TIMEOUT_MS);
    pool.setValidationTimeout(CONNECTION_TIMEOUT_MS / 2);
    return pool;
  }

  /** Creates the directory of an embedded H2 file database (the default {@code ./data/lb}) if it is missing. */
  private static void createDirectory(String url, String shownUrl) throws StoreException {
    Path directory = StoreUrls.h2Directory(url);
    if (directory == null) {
      return;
    }
    try {
      Files.createDirectories(directory);
    } catch (IOException | SecurityException e) {
      throw new StoreException("store " + shownUrl + ": cannot create directory " + directory + ": "
          + StoreErrors.cause(e), e);
    }
  }

  @Override
  public Map<String, Limit> loadAll() throws StoreException {
    return jdbc.read(c -> {
      Map<String, Limit> out = new HashMap<>();
      try (PreparedStatement select = Jdbc.prepare(c, SELECT_ALL);
          ResultSet rows = select.executeQuery()) {
        while (rows.next()) {
          out.put(rows.getString(1), new Limit(rows.getLong(2), rows.getDouble(3)));
        }
      }
      return out;
    });
  }

  @Override
  public long version() throws StoreException {
    return jdbc.read(c -> {
      try (PreparedStatement select = Jdbc.prepare(c, SELECT_VERSION);
          ResultSet row = select.executeQuery()) {
        if (!row.next()) {
          throw new SQLException("lb_meta has no row 1");
        }
        return row.getLong(1);
      }
    });
  }

  @Override
  public @Nullable Limit get(String clientId) throws StoreException {
    return jdbc.read(c -> {
      try (PreparedStatement select = Jdbc.prepare(c, SELECT_ONE)) {
        select.setString(1, clientId);
        try (ResultSet row = select.executeQuery()) {
          return row.next() ? new Limit(row.getLong(1), row.getDouble(2)) : null;
        }
      }
    });
  }

  @Override
  public boolean insert(String clientId, Limit limit) throws StoreException {
    Instant now = Instant.now();
    try {
      return jdbc.transaction(c -> {
        if (insertRow(c, clientId, limit, now) == 0) {
          return false;
        }
        bumpVersion(c);
        return true;
      });
    } catch (StoreException e) {
      // ON CONFLICT DO NOTHING already covers this; an engine that still reports the key as taken means the same.
      if (Jdbc.isDuplicate(e)) {
        return false;
      }
      throw e;
    }
  }

  /**
   * Update, else insert. Two replicas creating the same client at once both find no row to update; one inserts, the
   * other's insert does nothing (or fails on the key), and its next attempt updates the row the first one created.
   */
  @Override
  public boolean upsert(String clientId, Limit limit) throws StoreException {
    Instant now = Instant.now();
    for (int attempt = 1; ; attempt++) {
      Upsert outcome;
      try {
        outcome = jdbc.transaction(c -> upsertOnce(c, clientId, limit, now));
      } catch (StoreException e) {
        if (!Jdbc.isDuplicate(e) || attempt >= UPSERT_ATTEMPTS) {
          throw e;
        }
        continue;
      }
      if (outcome != Upsert.RACED) {
        return outcome == Upsert.CREATED;
      }
      if (attempt >= UPSERT_ATTEMPTS) {
        throw new StoreException("store " + jdbc.shownUrl() + ": client " + clientId
            + " was changed by other writers " + attempt + " times during this write; try again");
      }
    }
  }

  private static Upsert upsertOnce(Connection c, String clientId, Limit limit, Instant now) throws SQLException {
    if (updateRow(c, clientId, limit, now) > 0) {
      bumpVersion(c);
      return Upsert.REPLACED;
    }
    if (insertRow(c, clientId, limit, now) > 0) {
      bumpVersion(c);
      return Upsert.CREATED;
    }
    return Upsert.RACED;
  }

  @Override
  public boolean delete(String clientId) throws StoreException {
    return jdbc.transaction(c -> {
      int removed;
      try (PreparedStatement delete = Jdbc.prepare(c, DELETE)) {
        delete.setString(1, clientId);
        removed = delete.executeUpdate();
      }
      if (removed == 0) {
        return false;
      }
      bumpVersion(c);
      return true;
    });
  }

  /** Saves at most the first {@value LevelTable#MAX_LEVELS} clients' levels; the rest are dropped with a warning. */
  @Override
  public void saveLevels(Collection<BucketLevel> levels) throws StoreException {
    this.levels.save(levels);
  }

  @Override
  public List<BucketLevel> loadLevels() throws StoreException {
    return levels.load();
  }

  /** Closes the pool; calls after this fail with a {@link StoreException}. */
  @Override
  public void close() {
    pool.close();
  }

  private static int insertRow(Connection c, String clientId, Limit limit, Instant now) throws SQLException {
    try (PreparedStatement insert = Jdbc.prepare(c, INSERT)) {
      insert.setString(1, clientId);
      insert.setLong(2, limit.capacity());
      insert.setDouble(3, limit.ratePerSec());
      insert.setObject(4, Jdbc.utc(now));
      return insert.executeUpdate();
    }
  }

  private static int updateRow(Connection c, String clientId, Limit limit, Instant now) throws SQLException {
    try (PreparedStatement update = Jdbc.prepare(c, UPDATE)) {
      update.setLong(1, limit.capacity());
      update.setDouble(2, limit.ratePerSec());
      update.setObject(3, Jdbc.utc(now));
      update.setString(4, clientId);
      return update.executeUpdate();
    }
  }

  /** In the writer's transaction: readers see the new version exactly when they can see the change. */
  private static void bumpVersion(Connection c) throws SQLException {
    try (PreparedStatement bump = Jdbc.prepare(c, BUMP_VERSION)) {
      if (bump.executeUpdate() != 1) {
        throw new SQLException("lb_meta has no row 1");
      }
    }
  }
}
