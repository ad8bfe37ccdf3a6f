package dev.lb.server.limits;

import com.zaxxer.hikari.pool.HikariPool;
import java.io.EOFException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.sql.SQLTransientConnectionException;
import java.util.Locale;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.jspecify.annotations.Nullable;

/**
 * One line naming why a store call failed, for an operator: {@code connection refused} rather than the driver's
 * paragraph, the database's own message otherwise. Passwords are masked.
 */
final class StoreErrors {
  private static final int MAX_LENGTH = 300;
  private static final int MAX_DEPTH = 20;

  private StoreErrors() {}

  static String cause(Throwable failure) {
    String network = networkCause(failure);
    if (network != null) {
      return StoreUrls.mask(network);
    }
    return StoreUrls.mask(oneLine(innermostMeaningful(failure)));
  }

  /**
   * The network failure under the JDBC wrappers, when there is one: the driver and the pool say the same in more
   * words (PostgreSQL's "Connection to host:port refused. Check that the hostname and port are correct...").
   */
  private static @Nullable String networkCause(Throwable failure) {
    Throwable t = failure;
    for (int depth = 0; t != null && depth < MAX_DEPTH; depth++, t = t.getCause()) {
      if (t instanceof EOFException) {
        // The server (or something between) closed the connection: PostgreSQL's "An I/O error occurred while
        // sending to the backend" says less.
        return "connection closed by the database";
      }
      if (t instanceof UnknownHostException) {
        return "unknown host " + t.getMessage();
      }
      if (t instanceof SocketException || t instanceof SocketTimeoutException) {
        String message = t.getMessage();
        return message == null || message.isBlank() ? t.getClass().getSimpleName() : lowerFirst(message);
      }
    }
    return null;
  }

  /** Skips wrappers that only say "it failed" (the pool's timeout, its start failure, futures) when they have a cause. */
  private static Throwable innermostMeaningful(Throwable failure) {
    Throwable t = failure;
    for (int depth = 0; depth < MAX_DEPTH; depth++) {
      Throwable cause = t.getCause();
      boolean wrapper =
          t instanceof SQLTransientConnectionException
              || t instanceof ExecutionException
              || t instanceof CompletionException
              || t instanceof HikariPool.PoolInitializationException;
      if (!wrapper || cause == null || cause == t) {
        return t;
      }
      t = cause;
    }
    return t;
  }

  /** The message on one line (drivers and Flyway write several), at most 300 characters. */
  private static String oneLine(Throwable t) {
    String message = t.getMessage();
    if (message == null || message.isBlank()) {
      return t.getClass().getSimpleName();
    }
    String line = String.join(" ", message.strip().split("\\s*\\R\\s*"));
    return line.length() <= MAX_LENGTH ? line : line.substring(0, MAX_LENGTH - 3) + "...";
  }

  private static String lowerFirst(String s) {
    return s.substring(0, 1).toLowerCase(Locale.ROOT) + s.substring(1);
  }
}
