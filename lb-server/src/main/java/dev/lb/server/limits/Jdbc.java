package dev.lb.server.limits;

import dev.lb.ratelimit.StoreException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import javax.sql.DataSource;

/**
 * Borrowing a connection for one read or one transaction, and turning any failure into a {@link StoreException}
 * whose message is one line: {@code store URL: cause}.
 */
final class Jdbc {
  /** A statement that runs longer than this fails, so that a hung database cannot hold the store thread forever. */
  private static final int QUERY_TIMEOUT_SECONDS = 10;
  /** SQLSTATE of a unique-key violation, on PostgreSQL and H2 alike. */
  private static final String UNIQUE_VIOLATION = "23505";

  /** Work on one connection. */
  @FunctionalInterface
  interface Work<T> {
    T run(Connection connection) throws SQLException;
  }

  private final DataSource dataSource;
  private final String shownUrl;

  /**
   * @param shownUrl the URL as error messages show it (password masked)
   */
  Jdbc(DataSource dataSource, String shownUrl) {
    this.dataSource = dataSource;
    this.shownUrl = shownUrl;
  }

  String shownUrl() {
    return shownUrl;
  }

  /** Runs reads on a connection in auto-commit mode. */
  <T> T read(Work<T> work) throws StoreException {
    try (Connection c = dataSource.getConnection()) {
      return work.run(c);
    } catch (SQLException | RuntimeException e) {
      throw failure(e);
    }
  }

  /**
   * Runs work in one transaction: committed when it returns, rolled back when it throws. A unique-key violation
   * comes out as a StoreException that {@link #isDuplicate(StoreException)} recognises, for the caller to retry.
   */
  <T> T transaction(Work<T> work) throws StoreException {
    // The pool hands the connection back in auto-commit mode, rolling back whatever was left open.
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        try {
          c.rollback();
        } catch (SQLException rollback) {
          e.addSuppressed(rollback);
        }
        throw e;
      }
    } catch (SQLException | RuntimeException e) {
      throw failure(e);
    }
  }

  /** A statement with lb's query timeout. */
  static PreparedStatement prepare(Connection c, String sql) throws SQLException {
    PreparedStatement statement = c.prepareStatement(sql);
    try {
      statement.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
    } catch (SQLException | RuntimeException e) {
      statement.close();
      throw e;
    }
    return statement;
  }

  /** Whether a transaction failed on a unique-key violation: another replica inserted the same key meanwhile. */
  static boolean isDuplicate(StoreException e) {
    return e.getCause() instanceof SQLException sql && UNIQUE_VIOLATION.equals(sql.getSQLState());
  }

  /**
   * An instant as a {@code TIMESTAMP} (without time zone) value in UTC: the column type both engines share, read back
   * the same whatever the JVM's or the session's time zone.
   */
  static LocalDateTime utc(Instant instant) {
    return LocalDateTime.ofInstant(instant, ZoneOffset.UTC);
  }

  static Instant instant(LocalDateTime utc) {
    return utc.toInstant(ZoneOffset.UTC);
  }

  StoreException failure(Throwable e) {
    return new StoreException("store " + shownUrl + ": " + StoreErrors.cause(e), e);
  }
}
