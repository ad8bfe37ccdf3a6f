package dev.lb.server.limits;

import dev.lb.ratelimit.BucketLevel;
import dev.lb.ratelimit.StoreException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Bucket levels in {@code lb_bucket_levels}: saved in batches, one row per client, a later save replacing an earlier
 * one. Each batch is written as "update the rows that exist, insert the others, update again the few that another
 * replica inserted meanwhile": plain SQL that PostgreSQL and H2 both run, where {@code ON CONFLICT DO UPDATE} is
 * PostgreSQL's alone.
 */
final class LevelTable {
  private static final Logger LOG = LogManager.getLogger(LevelTable.class);

  /** The most levels one save writes: a drain must end in bounded time whatever the number of clients. */
  static final int MAX_LEVELS = 100_000;
  /** Rows per batch and per transaction: few round trips, short locks. */
  private static final int BATCH = 500;

  private static final String UPDATE = "UPDATE lb_bucket_levels SET tokens = ?, saved_at = ? WHERE client_id = ?";
  private static final String INSERT =
      "INSERT INTO lb_bucket_levels (client_id, tokens, saved_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING";
  private static final String SELECT = "SELECT client_id, tokens, saved_at FROM lb_bucket_levels";

  private final Jdbc jdbc;

  LevelTable(Jdbc jdbc) {
    this.jdbc = jdbc;
  }

  void save(Collection<BucketLevel> levels) throws StoreException {
    List<BucketLevel> kept = firstDistinct(levels);
    for (int from = 0; from < kept.size(); from += BATCH) {
      List<BucketLevel> batch = kept.subList(from, Math.min(kept.size(), from + BATCH));
      try {
        jdbc.transaction(c -> saveBatch(c, batch));
      } catch (StoreException e) {
        if (!Jdbc.isDuplicate(e)) {
          throw e;
        }
        // Another replica inserted one of these clients between our update and our insert: once more finds its row.
        jdbc.transaction(c -> saveBatch(c, batch));
      }
    }
  }

  List<BucketLevel> load() throws StoreException {
    return jdbc.read(c -> {
      List<BucketLevel> out = new ArrayList<>();
      try (PreparedStatement select = Jdbc.prepare(c, SELECT);
          ResultSet rows = select.executeQuery()) {
        while (rows.next()) {
          LocalDateTime savedAt = rows.getObject(3, LocalDateTime.class);
          out.add(new BucketLevel(rows.getString(1), rows.getDouble(2), Jdbc.instant(savedAt)));
        }
      }
      return out;
    });
  }

  /**
   * The levels to write: one per client (the last given wins), the first {@link #MAX_LEVELS} clients only.
   */
  static List<BucketLevel> firstDistinct(Collection<BucketLevel> levels) {
    Map<String, BucketLevel> byClient = new LinkedHashMap<>();
    int dropped = 0;
    for (BucketLevel level : levels) {
      if (byClient.size() >= MAX_LEVELS && !byClient.containsKey(level.clientId())) {
        dropped++;
      } else {
        byClient.put(level.clientId(), level);
      }
    }
    if (dropped > 0) {
      LOG.warn("bucket levels: saving the first {} clients, not the other {}", MAX_LEVELS, dropped);
    }
    return new ArrayList<>(byClient.values());
  }

  /** Writes one batch; returns how many rows needed inserting. */
  private static Integer saveBatch(Connection c, List<BucketLevel> batch) throws SQLException {
    List<BucketLevel> missing = unchanged(batch, update(c, batch));
    if (missing.isEmpty()) {
      return 0;
    }
    List<BucketLevel> raced = unchanged(missing, insert(c, missing));
    if (!raced.isEmpty()) {
      update(c, raced);
    }
    return missing.size() - raced.size();
  }

  private static int[] update(Connection c, List<BucketLevel> levels) throws SQLException {
    try (PreparedStatement update = Jdbc.prepare(c, UPDATE)) {
      for (BucketLevel level : levels) {
        update.setDouble(1, level.tokens());
        update.setObject(2, Jdbc.utc(level.savedAt()));
        update.setString(3, level.clientId());
        update.addBatch();
      }
      return update.executeBatch();
    }
  }

  private static int[] insert(Connection c, List<BucketLevel> levels) throws SQLException {
    try (PreparedStatement insert = Jdbc.prepare(c, INSERT)) {
      for (BucketLevel level : levels) {
        insert.setString(1, level.clientId());
        insert.setDouble(2, level.tokens());
        insert.setObject(3, Jdbc.utc(level.savedAt()));
        insert.addBatch();
      }
      return insert.executeBatch();
    }
  }

  /**
   * The levels whose statement changed no row. A driver that does not report counts ({@code SUCCESS_NO_INFO}) is
   * taken at its word that the row was written.
   */
  private static List<BucketLevel> unchanged(List<BucketLevel> levels, int[] counts) {
    List<BucketLevel> out = new ArrayList<>();
    for (int i = 0; i < levels.size(); i++) {
      if (i < counts.length && counts[i] == 0) {
        out.add(levels.get(i));
      }
    }
    return out;
  }
}
