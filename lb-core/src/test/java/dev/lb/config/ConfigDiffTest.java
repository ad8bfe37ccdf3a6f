package dev.lb.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigDiffTest {
  private static LbConfig parse(String yaml) throws ConfigException {
    return ConfigLoader.parse(yaml, Map.of());
  }

  @Test
  void nothingChangedIsEmpty() throws ConfigException {
    LbConfig a = parse("backends: [ \"http://127.0.0.1:8081\" ]\n");
    assertThat(ConfigDiff.changes(a, parse("backends: [ { url: \"http://127.0.0.1:8081\", weight: 1 } ]\n")))
        .isEmpty();
  }

  @Test
  void everyChangedKeyIsOneLineWithSecretsMasked() throws ConfigException {
    LbConfig a = parse("admin: { token: old-secret }\nbackends: [ \"http://127.0.0.1:8081\" ]\n");
    LbConfig b = parse("admin: { token: new-secret }\nproxy: { connect_timeout: 1s }\n"
        + "balancing: { algorithm: least_connections }\n"
        + "backends: [ \"http://127.0.0.1:8081\", { url: \"http://127.0.0.1:8082\", weight: 3 } ]\n");
    List<String> changes = ConfigDiff.changes(a, b);
    assertThat(changes).containsExactly(
        "backends: [{url: http://127.0.0.1:8081, weight: 1}] -> "
            + "[{url: http://127.0.0.1:8081, weight: 1}, {url: http://127.0.0.1:8082, weight: 3}]",
        "balancing.algorithm: round_robin -> least_connections",
        "proxy.connect_timeout: 2s -> 1s");
    assertThat(String.join("\n", changes)).doesNotContain("secret");
  }

  @Test
  void changesUnderPrefixesAreFound() {
    List<String> changes = List.of("listen.port: 8080 -> 8081", "listen.max_connections: 1 -> 2",
        "admin.host: a -> b", "proxy.idle_timeout: 60s -> 30s");
    assertThat(ConfigDiff.changedUnder(changes, List.of("listen.port", "admin")))
        .containsExactly("listen.port: 8080 -> 8081", "admin.host: a -> b");
  }
}
