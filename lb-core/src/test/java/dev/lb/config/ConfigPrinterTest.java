package dev.lb.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.lb.config.LoggingConfig.LogFormat;
import dev.lb.config.RateLimitConfig.ClientLimit;
import dev.lb.config.RateLimitConfig.Limit;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigPrinterTest {
  private static final YAMLMapper YAML = new YAMLMapper();

  /** A configuration with no value at its default, and strings a careless printer would get wrong. */
  static LbConfig unusual() {
    return new LbConfig(
        new ListenConfig("::", 0, 3, 77),
        new AdminConfig("127.0.0.1", 9999, "0123"),
        List.of(
            new BackendConfig("http://[::1]:8081", "::1", 8081, 0),
            new BackendConfig("http://backend.internal:80", "backend.internal", 80, 256)),
        new BalancingConfig(Algorithm.POWER_OF_TWO, new KeySource("X-User")),
        new HealthCheckConfig(
            false, Duration.ofMillis(1500), "/h?x=${y}", Duration.ofNanos(500_000), Duration.ofHours(2), 100, 1),
        new ProxyConfig(
            Duration.ofMillis(1),
            Duration.ofSeconds(90),
            Duration.ofMinutes(2),
            Duration.ofSeconds(61),
            10,
            1024,
            Long.MAX_VALUE,
            Duration.ofMillis(250),
            10_000),
        new RateLimitConfig(
            true,
            new KeySource("X-Api-Key"),
            List.of("10.0.0.0/8", "::1/128", "fd00::/8"),
            false,
            new Limit(1_000_000_000, 1e-5),
            List.of(
                new ClientLimit("true", 1, 0.1),
                new ClientLimit("null", 2, 1e300),
                new ClientLimit("#not a comment", 3, 3),
                new ClientLimit(" spaced ", 4, 1.0 / 3))),
        new StoreConfig("jdbc:postgresql://db:5432/lb?sslmode=require", "yes", "$${pw}: [x]", Duration.ofMinutes(1)),
        new ShutdownConfig(Duration.ofSeconds(5), Duration.ZERO),
        new LoggingConfig(false, LogFormat.JSON));
  }

  @Test
  void theOutputLoadsBackToAnEqualConfig() throws ConfigException {
    LbConfig config = unusual();
    String yaml = ConfigPrinter.toYaml(config, false);
    assertThat(ConfigLoader.parse(yaml, Map.of())).isEqualTo(config);
  }

  @Test
  void theDefaultsLoadBackToThemselves() throws ConfigException {
    LbConfig config =
        LbConfig.withBackends(List.of(new BackendConfig("http://127.0.0.1:8081", "127.0.0.1", 8081, 1)));
    assertThat(ConfigLoader.parse(ConfigPrinter.toYaml(config, false), Map.of())).isEqualTo(config);
  }

  @Test
  void theSampleFileLoadsBackToItselfAndNamesEveryKeyThePrinterWrites() throws Exception {
    Path sample = Path.of("../config/lb.yaml");
    LbConfig config = ConfigLoader.load(sample, Map.of());
    String printed = ConfigPrinter.toYaml(config, false);
    assertThat(ConfigLoader.parse(printed, Map.of())).isEqualTo(config);
    assertThat(paths(YAML.readTree(sample.toFile()))).isEqualTo(paths(YAML.readTree(printed)));
  }

  @Test
  void writesTheKeysOfTheContractInItsOrder() throws Exception {
    JsonNode tree = YAML.readTree(ConfigPrinter.toYaml(unusual(), false));
    assertThat(names(tree))
        .containsExactly(
            "listen",
            "admin",
            "backends",
            "balancing",
            "health_check",
            "proxy",
            "rate_limit",
            "store",
            "shutdown",
            "logging",
            "discovery",
            "config");
    assertThat(names(tree.get("listen")))
        .containsExactly("host", "port", "workers", "max_connections", "transport", "h2c", "http2");
    assertThat(names(tree.get("admin"))).containsExactly("host", "port", "token");
    assertThat(names(tree.get("backends").get(0))).containsExactly("url", "weight");
    assertThat(names(tree.get("balancing"))).containsExactly("algorithm", "hash_key");
    assertThat(names(tree.get("health_check")))
        .containsExactly(
            "enabled", "slow_start", "path", "interval", "timeout", "healthy_threshold", "unhealthy_threshold",
            "passive");
    assertThat(names(tree.get("health_check").get("passive")))
        .containsExactly("enabled", "consecutive_errors", "count_5xx", "base_ejection_time", "max_ejection_time",
            "max_ejection_percent");
    assertThat(names(tree.get("proxy")))
        .containsExactly(
            "connect_timeout",
            "response_timeout",
            "idle_timeout",
            "request_header_timeout",
            "max_retries",
            "max_header_size",
            "max_body_size",
            "pool_idle_timeout",
            "pool_max_idle",
            "retry_backoff",
            "retry_budget",
            "queue");
    assertThat(names(tree.get("proxy").get("retry_backoff"))).containsExactly("base", "max");
    assertThat(names(tree.get("proxy").get("retry_budget"))).containsExactly("percent", "min_concurrent");
    assertThat(names(tree.get("proxy").get("queue"))).containsExactly("max_size", "timeout");
    assertThat(names(tree.get("rate_limit")))
        .containsExactly("enabled", "client_key", "trusted_proxies", "headers", "default", "clients", "scope", "redis");
    assertThat(names(tree.get("rate_limit").get("redis"))).containsExactly("url", "timeout", "failure_mode");
    assertThat(names(tree.get("rate_limit").get("default"))).containsExactly("capacity", "rate_per_sec");
    assertThat(names(tree.get("rate_limit").get("clients").get(0)))
        .containsExactly("client_id", "capacity", "rate_per_sec");
    assertThat(names(tree.get("store"))).containsExactly("url", "username", "password", "poll_interval");
    assertThat(names(tree.get("shutdown"))).containsExactly("drain_delay", "grace_period");
    assertThat(names(tree.get("logging"))).containsExactly("access_log", "format");
  }

  @Test
  void writesValuesInTheirConfigurationForm() throws Exception {
    JsonNode tree = YAML.readTree(ConfigPrinter.toYaml(unusual(), false));
    assertThat(tree.at("/balancing/algorithm").asText()).isEqualTo("power_of_two");
    assertThat(tree.at("/balancing/hash_key").asText()).isEqualTo("header:X-User");
    assertThat(tree.at("/rate_limit/client_key").asText()).isEqualTo("header:X-Api-Key");
    assertThat(tree.at("/health_check/slow_start").asText()).isEqualTo("1500ms");
    assertThat(tree.at("/health_check/interval").asText()).isEqualTo("0.5ms");
    assertThat(tree.at("/health_check/timeout").asText()).isEqualTo("2h");
    assertThat(tree.at("/proxy/response_timeout").asText()).isEqualTo("90s");
    assertThat(tree.at("/proxy/idle_timeout").asText()).isEqualTo("2m");
    assertThat(tree.at("/shutdown/grace_period").asText()).isEqualTo("0s");
    assertThat(tree.at("/logging/format").asText()).isEqualTo("json");
    assertThat(tree.at("/backends/0/url").asText()).isEqualTo("http://[::1]:8081");
    assertThat(tree.at("/backends/0/weight").asInt()).isZero();
    assertThat(tree.at("/admin/token").isTextual()).as("a numeric-looking token is quoted").isTrue();
  }

  @Test
  void aDefaultConfigReadsLikeTheContract() {
    LbConfig config =
        LbConfig.withBackends(List.of(new BackendConfig("http://127.0.0.1:8081", "127.0.0.1", 8081, 1)));
    assertThat(ConfigPrinter.toYaml(config, true))
        .contains("listen:\n  host: 0.0.0.0\n  port: 8080\n  workers: 0\n  max_connections: 10000\n  transport: auto\n")
        .contains("backends:\n  - url: http://127.0.0.1:8081\n    weight: 1\n")
        .contains("  passive:\n    enabled: true\n    consecutive_errors: 5\n    count_5xx: false\n"
            + "    base_ejection_time: 30s\n    max_ejection_time: 5m\n    max_ejection_percent: 50\n")
        .contains("  retry_backoff:\n    base: 25ms\n    max: 250ms\n")
        .contains("  retry_budget:\n    percent: 20\n    min_concurrent: 3\n")
        .contains("  queue:\n    max_size: 1000\n    timeout: 5s\n")
        .contains("  algorithm: round_robin\n  hash_key: client_ip\n")
        .contains("  client_key: ip\n  trusted_proxies: []\n")
        .contains("  default:\n    capacity: 100\n    rate_per_sec: 10\n  clients: []\n")
        .contains("  connect_timeout: 2s\n")
        .contains("  format: text\n")
        .doesNotStartWith("---");
  }

  @Test
  void masksSecrets() throws Exception {
    LbConfig config =
        ConfigLoader.parse(
            """
            admin: {token: s3cret}
            backends: [http://127.0.0.1:8081]
            store:
              url: "jdbc:postgresql://db/lb?user=lb&password=hunter2&ssl=true"
              username: lb
              password: pw
            """,
            Map.of());
    String masked = ConfigPrinter.toYaml(config, true);
    assertThat(masked).doesNotContain("s3cret", "hunter2", "password: pw");
    JsonNode tree = YAML.readTree(masked);
    assertThat(tree.at("/admin/token").asText()).isEqualTo("****");
    assertThat(tree.at("/store/password").asText()).isEqualTo("****");
    assertThat(tree.at("/store/url").asText()).isEqualTo("jdbc:postgresql://db/lb?user=lb&password=****&ssl=true");
    assertThat(tree.at("/store/username").asText()).isEqualTo("lb");
    assertThat(ConfigLoader.parse(masked, Map.of()).admin().token()).isEqualTo("****");
  }

  @Test
  void emptySecretsStayEmptyWhenMasked() throws Exception {
    LbConfig config =
        LbConfig.withBackends(List.of(new BackendConfig("http://127.0.0.1:8081", "127.0.0.1", 8081, 1)));
    JsonNode tree = YAML.readTree(ConfigPrinter.toYaml(config, true));
    assertThat(tree.at("/admin/token").asText()).isEmpty();
    assertThat(tree.at("/store/password").asText()).isEmpty();
  }

  @Test
  void withoutMaskingSecretsArePrintedAsTheyAre() throws Exception {
    JsonNode tree =
        YAML.readTree(ConfigPrinter.toYaml(unusual().withAdmin(new AdminConfig("0.0.0.0", 9090, "s3cret")), false));
    assertThat(tree.at("/admin/token").asText()).isEqualTo("s3cret");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "jdbc:h2:./lb;USER=sa;PASSWORD=x;MODE=PostgreSQL | jdbc:h2:./lb;USER=sa;PASSWORD=****;MODE=PostgreSQL",
        "jdbc:postgresql://h/db?password=x                    | jdbc:postgresql://h/db?password=****",
        "jdbc:postgresql://h/db?password=                     | jdbc:postgresql://h/db?password=****",
        "jdbc:postgresql://h/db?user=a                        | jdbc:postgresql://h/db?user=a"
      })
  void masksAPasswordParameterOfAJdbcUrl(String url, String masked) {
    assertThat(ConfigPrinter.maskUrlPassword(url)).isEqualTo(masked);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"0123", "true", "yes", "null", "~", "", " x ", "a: b", "- x", "#x", "${HOME}", "$${x", "'q'", "\"q\"",
        "multi\nline", "tab\there", "1e3", "0x1F", "@x", "*x", "&x", "!x", "%x", "{a}", "[a]", "ünïcödé"})
  void anyTokenSurvivesTheRoundTrip(String token) throws ConfigException {
    LbConfig config = unusual().withAdmin(new AdminConfig("0.0.0.0", 9090, token));
    assertThat(ConfigLoader.parse(ConfigPrinter.toYaml(config, false), Map.of()).admin().token()).isEqualTo(token);
  }

  private static List<String> names(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  /** Every key path of a tree, list items folded into "[]". */
  private static TreeSet<String> paths(JsonNode node) {
    TreeSet<String> paths = new TreeSet<>();
    collect(node, "", paths);
    return paths;
  }

  private static void collect(JsonNode node, String path, TreeSet<String> paths) {
    if (node.isObject()) {
      node.properties().forEach(e -> {
        String child = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
        paths.add(child);
        collect(e.getValue(), child, paths);
      });
    } else if (node.isArray()) {
      node.forEach(item -> collect(item, path + "[]", paths));
    }
  }
}
