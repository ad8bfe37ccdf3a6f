package dev.lb.server.limits;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The PostgreSQL server tests run against: the one {@code LB_TEST_PG_URL} names (a JDBC URL), else a Testcontainers
 * container when a Docker engine is present, else none, and the calling test is skipped with a one-line reason. Each
 * test gets a schema of its own, dropped afterwards, so runs never see each other's tables.
 */
public final class TestPostgres {
  static final String URL_VARIABLE = "LB_TEST_PG_URL";

  private static @Nullable PostgreSQLContainer container;

  private TestPostgres() {}

  /** Skips the calling test (or class) when there is no PostgreSQL to run against. */
  public static void assumeAvailable() {
    assumeTrue(hasUrl() || DockerClientFactory.instance().isDockerAvailable(),
        "PostgreSQL tests skipped: set " + URL_VARIABLE + " to a JDBC URL, or run a Docker engine for Testcontainers");
  }

  /** A new, empty schema; its URL selects it. */
  public static Schema newSchema() throws SQLException {
    String base = serverUrl();
    String name = "lb_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16).toLowerCase(Locale.ROOT);
    try (Connection c = DriverManager.getConnection(base);
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + name);
    }
    return new Schema(base, name, withParameter(base, "currentSchema=" + name));
  }

  private static boolean hasUrl() {
    String url = System.getenv(URL_VARIABLE);
    return url != null && !url.isBlank();
  }

  private static synchronized String serverUrl() {
    if (hasUrl()) {
      return System.getenv(URL_VARIABLE).strip();
    }
    PostgreSQLContainer running = container;
    if (running == null) {
      running = new PostgreSQLContainer("postgres:17-alpine");
      running.start();
      // Stopped by Testcontainers' reaper when the test JVM exits; one container serves every test class.
      container = running;
    }
    return withParameter(withParameter(running.getJdbcUrl(), "user=" + running.getUsername()),
        "password=" + running.getPassword());
  }

  static String withParameter(String url, String parameter) {
    return url + (url.contains("?") ? "&" : "?") + parameter;
  }

  /** A schema of a test's own. */
  public record Schema(String serverUrl, String name, String url) implements AutoCloseable {
    @Override
    public void close() throws SQLException {
      try (Connection c = DriverManager.getConnection(serverUrl);
          Statement s = c.createStatement()) {
        s.execute("DROP SCHEMA IF EXISTS " + name + " CASCADE");
      }
    }
  }
}
