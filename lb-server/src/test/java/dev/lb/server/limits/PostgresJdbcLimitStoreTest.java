package dev.lb.server.limits;

import dev.lb.config.StoreConfig;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeAll;

/**
 * The store on PostgreSQL: the server {@code LB_TEST_PG_URL} names, else a Testcontainers container, else skipped.
 * Each test runs in a schema of its own.
 */
class PostgresJdbcLimitStoreTest extends JdbcLimitStoreTest {
  private TestPostgres.@Nullable Schema schema;

  @BeforeAll
  static void postgres() {
    TestPostgres.assumeAvailable();
  }

  @Override
  StoreConfig emptyDatabase() throws Exception {
    TestPostgres.Schema created = TestPostgres.newSchema();
    schema = created;
    return new StoreConfig(created.url(), "", "", Duration.ofSeconds(5));
  }

  @Override
  void dropDatabase() throws Exception {
    if (schema != null) {
      schema.close();
    }
  }

  @Override
  String unreachableUrl(int port, String password) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/lb?user=lb&password=" + password;
  }
}
