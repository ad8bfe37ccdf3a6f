package dev.lb.server.limits;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.config.StoreConfig;
import dev.lb.ratelimit.Limit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store on H2: in memory for the shared cases, on file for the embedded default. */
class H2JdbcLimitStoreTest extends JdbcLimitStoreTest {
  @TempDir Path temp;

  @Override
  StoreConfig emptyDatabase() {
    // DB_CLOSE_DELAY=-1 keeps the database while no connection is open, as a file would stay.
    return new StoreConfig("jdbc:h2:mem:lb-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "", "",
        Duration.ofSeconds(5));
  }

  @Override
  void dropDatabase() throws Exception {
    try (var c = connect();
        var s = c.createStatement()) {
      s.execute("SHUTDOWN");
    }
  }

  @Override
  String unreachableUrl(int port, String password) {
    return "jdbc:h2:tcp://127.0.0.1:" + port + "/mem:lb;PASSWORD=" + password;
  }

  @Test
  void aFileDatabaseCreatesItsDirectoryAndKeepsItsData() throws Exception {
    Path directory = temp.resolve("data/nested");
    String url = "jdbc:h2:file:" + directory.resolve("lb");
    StoreConfig file = new StoreConfig(url, "", "", Duration.ofSeconds(5));

    try (JdbcLimitStore store = JdbcLimitStore.open(file)) {
      store.insert("user1", new Limit(10, 2));
    }
    assertThat(directory).isDirectory();
    assertThat(directory.resolve("lb.mv.db")).exists();
    try (JdbcLimitStore again = JdbcLimitStore.open(file)) {
      assertThat(again.loadAll()).containsExactly(Map.entry("user1", new Limit(10, 2)));
    }
  }

  @Test
  void aDirectoryThatCannotBeCreatedFailsOpenWithOneLine() throws Exception {
    Path blocker = Files.writeString(temp.resolve("a-file"), "not a directory");
    StoreConfig file = new StoreConfig("jdbc:h2:file:" + blocker.resolve("sub/lb"), "", "", Duration.ofSeconds(5));

    org.assertj.core.api.Assertions.assertThatThrownBy(() -> JdbcLimitStore.open(file))
        .hasMessageStartingWith("store jdbc:h2:file:" + blocker.resolve("sub/lb") + ": cannot create directory ")
        .hasMessageNotContaining("\n");
  }
}
