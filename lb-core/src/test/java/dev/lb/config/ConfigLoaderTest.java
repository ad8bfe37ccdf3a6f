package dev.lb.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lb.config.LoggingConfig.LogFormat;
import dev.lb.config.RateLimitConfig.ClientLimit;
import dev.lb.config.RateLimitConfig.Limit;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigLoaderTest {
  private static final String BACKEND = "backends: [http://127.0.0.1:8081]\n";
  private static final BackendConfig LOCAL_8081 = new BackendConfig("http://127.0.0.1:8081", "127.0.0.1", 8081, 1);

  static LbConfig load(String yaml) throws ConfigException {
    return ConfigLoader.parse(yaml, Map.of());
  }

  static List<String> errors(String yaml) {
    return errors(yaml, Map.of());
  }

  static List<String> errors(String yaml, Map<String, String> env) {
    try {
      LbConfig config = ConfigLoader.parse(yaml, env);
      return fail("expected a ConfigException, got " + config);
    } catch (ConfigException e) {
      assertThat(e.getMessage()).isEqualTo(String.join("\n", e.errors()));
      return e.errors();
    }
  }

  @Nested
  class Defaults {
    @Test
    void onlyBackendsGivenMeansEveryOtherKeyHasItsDefault() throws ConfigException {
      assertThat(load(BACKEND)).isEqualTo(LbConfig.withBackends(List.of(LOCAL_8081)));
    }

    @Test
    void emptyAndNullSectionsTakeTheirDefaults() throws ConfigException {
      String yaml =
          BACKEND
              + "listen:\nadmin: {}\nbalancing: ~\nhealth_check:\nproxy: {}\nstore:\nshutdown:\nlogging: {}\n"
              + "rate_limit: {trusted_proxies: ~, clients: ~, default: ~}\n";
      assertThat(load(yaml)).isEqualTo(LbConfig.withBackends(List.of(LOCAL_8081)));
    }

    @Test
    void aPartialSectionKeepsTheDefaultsOfTheKeysNotGiven() throws ConfigException {
      LbConfig config = load(BACKEND + "listen: {port: 8000}\nrate_limit: {default: {capacity: 5}}\n");
      assertThat(config.listen()).isEqualTo(new ListenConfig("0.0.0.0", 8000, 0, 10_000));
      assertThat(config.rateLimit().defaultLimit()).isEqualTo(new Limit(5, 10));
    }

    @Test
    void theClusterScopeReadsItsRedis() throws ConfigException {
      LbConfig config = load(BACKEND + "rate_limit: {scope: cluster, redis: {url: \"rediss://:pw@redis.ns:6380/2\","
          + " timeout: 20ms, failure_mode: closed}}\n");
      assertThat(config.rateLimit().scope()).isEqualTo(RateLimitConfig.Scope.CLUSTER);
      assertThat(config.rateLimit().redis()).isEqualTo(new RateLimitConfig.Redis("rediss://:pw@redis.ns:6380/2",
          java.time.Duration.ofMillis(20), RateLimitConfig.FailureMode.CLOSED));
      assertThat(ConfigPrinter.toYaml(config, true)).contains("rediss://:****@redis.ns:6380/2")
          .doesNotContain(":pw@");
      assertThat(load(BACKEND).rateLimit().scope()).isEqualTo(RateLimitConfig.Scope.LOCAL);
      LbConfig sentinel = load(BACKEND + "rate_limit: {scope: cluster, redis: {url:"
          + " \"redis-sentinel://:pw@s1:26379,s2:26379/1#lb-master\"}}\n");
      assertThat(sentinel.rateLimit().redis().url()).isEqualTo("redis-sentinel://:pw@s1:26379,s2:26379/1#lb-master");
      assertThat(ConfigPrinter.toYaml(sentinel, true)).contains("redis-sentinel://:****@s1:26379,s2:26379/1#lb-master");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\n", "# only a comment\n", "{}", "null", "~", "---\n"})
    void anEmptyDocumentLacksOnlyBackends(String yaml) {
      assertThat(errors(yaml)).containsExactly("backends: (missing) (expected: a list of at least one backend)");
    }
  }

  @Nested
  class EveryKey {
    @Test
    void everyKeyIsReadIntoItsRecord() throws ConfigException {
      String yaml =
          """
          listen: {host: 127.0.0.1, port: 8000, workers: 4, max_connections: 500, transport: nio}
          admin: {host: localhost, port: 9000, token: secret}
          backends:
            - {url: http://10.0.0.1:81, weight: 3, max_connections: 4}
            - http://backend.internal
          balancing: {algorithm: consistent_hash, hash_key: "header:X-User"}
          health_check:
            enabled: false
            slow_start: 30s
            path: /ready?full=1
            interval: 500ms
            timeout: 1.5s
            healthy_threshold: 5
            unhealthy_threshold: 7
            passive:
              enabled: false
              consecutive_errors: 2
              count_5xx: true
              base_ejection_time: 10s
              max_ejection_time: 1m
              max_ejection_percent: 0
          proxy:
            connect_timeout: 100ms
            response_timeout: 1m
            idle_timeout: 2m
            request_header_timeout: 3s
            max_retries: 0
            max_header_size: 1024
            max_body_size: 10485760
            pool_idle_timeout: 1h
            pool_max_idle: 0
            retry_backoff: {base: 10ms, max: 10ms}
            retry_budget: {percent: 100, min_concurrent: 0}
            queue: {max_size: 0, timeout: 100ms}
          rate_limit:
            enabled: true
            client_key: header:X-Api-Key
            trusted_proxies: [10.0.0.0/8, "::1/128", 192.168.1.1, "fd00::1"]
            headers: false
            default: {capacity: 1, rate_per_sec: 0.5}
            clients:
              - {client_id: "10.0.0.7", capacity: 1000, rate_per_sec: 100}
              - {client_id: user1, capacity: 1000000000, rate_per_sec: 1e-3}
          store: {url: "jdbc:postgresql://db:5432/lb", username: lb, password: pw, poll_interval: 250ms}
          shutdown: {drain_delay: 5s, grace_period: 0}
          logging: {access_log: false, format: JSON}
          """;
      LbConfig expected =
          new LbConfig(
              new ListenConfig("127.0.0.1", 8000, 4, 500, ListenConfig.TransportChoice.NIO),
              new AdminConfig("localhost", 9000, "secret"),
              List.of(
                  new BackendConfig("http://10.0.0.1:81", "10.0.0.1", 81, 3, 4),
                  new BackendConfig("http://backend.internal:80", "backend.internal", 80, 1)),
              new BalancingConfig(Algorithm.CONSISTENT_HASH, new KeySource("X-User")),
              new HealthCheckConfig(
                  false,
                  Duration.ofSeconds(30),
                  "/ready?full=1",
                  Duration.ofMillis(500),
                  Duration.ofMillis(1500),
                  5,
                  7,
                  new PassiveHealthConfig(false, 2, true, Duration.ofSeconds(10), Duration.ofMinutes(1), 0)),
              new ProxyConfig(
                  Duration.ofMillis(100),
                  Duration.ofMinutes(1),
                  Duration.ofMinutes(2),
                  Duration.ofSeconds(3),
                  0,
                  1024,
                  10_485_760,
                  Duration.ofHours(1),
                  0,
                  new ProxyConfig.RetryBackoff(Duration.ofMillis(10), Duration.ofMillis(10)),
                  new ProxyConfig.RetryBudget(100, 0),
                  new ProxyConfig.Queue(0, Duration.ofMillis(100))),
              new RateLimitConfig(
                  true,
                  new KeySource("X-Api-Key"),
                  List.of("10.0.0.0/8", "::1/128", "192.168.1.1", "fd00::1"),
                  false,
                  new Limit(1, 0.5),
                  List.of(new ClientLimit("10.0.0.7", 1000, 100), new ClientLimit("user1", 1_000_000_000, 0.001))),
              new StoreConfig("jdbc:postgresql://db:5432/lb", "lb", "pw", Duration.ofMillis(250)),
              new ShutdownConfig(Duration.ofSeconds(5), Duration.ZERO),
              new LoggingConfig(false, LogFormat.JSON));
      assertThat(load(yaml)).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({
      "round_robin, ROUND_ROBIN",
      "weighted_round_robin, WEIGHTED_ROUND_ROBIN",
      "least_connections, LEAST_CONNECTIONS",
      "random, RANDOM",
      "power_of_two, POWER_OF_TWO",
      "consistent_hash, CONSISTENT_HASH"
    })
    void everyAlgorithmIsKnownByItsKey(String key, Algorithm algorithm) throws ConfigException {
      assertThat(load(BACKEND + "balancing: {algorithm: " + key + "}").balancing().algorithm()).isEqualTo(algorithm);
    }

    @Test
    void bothPortsMayBeZero() throws ConfigException {
      LbConfig config = load(BACKEND + "listen: {port: 0}\nadmin: {port: 0}");
      assertThat(config.listen().port()).isZero();
      assertThat(config.admin().port()).isZero();
    }

    @ParameterizedTest
    @CsvSource({"true, true", "True, true", "TRUE, true", "false, false", "'\"false\"', false", "'\"true\"', true"})
    void booleansAreTrueOrFalse(String written, boolean expected) throws ConfigException {
      assertThat(load(BACKEND + "health_check: {enabled: " + written + "}").healthCheck().enabled())
          .isEqualTo(expected);
    }

    @Test
    void zeroAloneIsAllowedWhereADurationMayBeZero() throws ConfigException {
      LbConfig config = load(BACKEND + "health_check: {slow_start: 0}\nshutdown: {drain_delay: 0, grace_period: 0ms}");
      assertThat(config.healthCheck().slowStart()).isZero();
      assertThat(config.shutdown().drainDelay()).isZero();
      assertThat(config.shutdown().gracePeriod()).isZero();
    }

    @Test
    void theFileWatchIsOffUnlessAskedFor() throws ConfigException {
      assertThat(load(BACKEND).configFile()).isEqualTo(ConfigFileConfig.defaults());
      assertThat(ConfigFileConfig.defaults().watch()).isFalse();
      assertThat(load(BACKEND + "config: {watch: true, watch_interval: 250ms, watch_debounce: 0s}").configFile())
          .isEqualTo(new ConfigFileConfig(true, java.time.Duration.ofMillis(250), java.time.Duration.ZERO));
    }

    @Test
    void integersMayBeQuoted() throws ConfigException {
      assertThat(load(BACKEND + "listen: {port: \"8000\"}").listen().port()).isEqualTo(8000);
    }

    @Test
    void scalarsKeepTheTextAsWrittenInsteadOfYaml11Types() throws ConfigException {
      // YAML 1.1 reads 0123 as octal 83 and "on" as true; a token or a client id must stay as written.
      LbConfig config =
          load(
              BACKEND
                  + "admin: {token: 0123}\nstore: {username: on, password: 1e3}\n"
                  + "rate_limit: {clients: [{client_id: 0x1F, capacity: 1, rate_per_sec: 1}]}");
      assertThat(config.admin().token()).isEqualTo("0123");
      assertThat(config.store().username()).isEqualTo("on");
      assertThat(config.store().password()).isEqualTo("1e3");
      assertThat(config.rateLimit().clients()).extracting(ClientLimit::clientId).containsExactly("0x1F");
    }
  }

  static Stream<Arguments> badValues() {
    return Stream.of(
        // listen and admin
        bad("listen: {host: \"\"}", "listen.host: \"\" (expected: a host name or IP address)"),
        bad("listen: {host: bad host}", "listen.host: bad host (expected: a host name or IP address)"),
        bad("listen: {host: \"[::1]\"}", "listen.host: [::1] (expected: a host name or IP address)"),
        bad("listen: {port: 70000}", "listen.port: 70000 (expected: an integer from 0 to 65535)"),
        bad("listen: {port: -1}", "listen.port: -1 (expected: an integer from 0 to 65535)"),
        bad("listen: {port: 80.5}", "listen.port: 80.5 (expected: an integer from 0 to 65535)"),
        bad("listen: {port: 8080.0}", "listen.port: 8080.0 (expected: an integer from 0 to 65535)"),
        bad("listen: {port: http}", "listen.port: http (expected: an integer from 0 to 65535)"),
        bad("listen: {port: 1e3}", "listen.port: 1e3 (expected: an integer from 0 to 65535)"),
        bad("listen: {port: ~}", "listen.port: (null) (expected: an integer from 0 to 65535)"),
        bad("listen: {port: }", "listen.port: (null) (expected: an integer from 0 to 65535)"),
        bad("listen: {port: [8080]}", "listen.port: [8080] (expected: an integer from 0 to 65535)"),
        bad("listen: {port: {a: 1}}", "listen.port: {a: 1} (expected: an integer from 0 to 65535)"),
        bad(
            "listen: {port: 99999999999999999999999}",
            "listen.port: 99999999999999999999999 (expected: an integer from 0 to 65535)"),
        bad("listen: {transport: kqueue}", "listen.transport: kqueue (expected: one of auto, io_uring, epoll, nio)"),
        bad("listen: {transport: EPOLL}", "listen.transport: EPOLL (expected: one of auto, io_uring, epoll, nio)"),
        bad("listen: {workers: 1025}", "listen.workers: 1025 (expected: an integer from 0 to 1024)"),
        bad("listen: {workers: -1}", "listen.workers: -1 (expected: an integer from 0 to 1024)"),
        bad("listen: {max_connections: 0}", "listen.max_connections: 0 (expected: an integer from 1 to 1000000)"),
        bad(
            "listen: {max_connections: 1000001}",
            "listen.max_connections: 1000001 (expected: an integer from 1 to 1000000)"),
        bad("admin: {host: \"\"}", "admin.host: \"\" (expected: a host name or IP address)"),
        bad("admin: {port: 65536}", "admin.port: 65536 (expected: an integer from 0 to 65535)"),
        bad("admin: {port: 8080}", "admin.port: 8080 (expected: a port different from listen.port, or 0)"),
        bad("listen: {port: 9090}", "admin.port: 9090 (expected: a port different from listen.port, or 0)"),
        bad("admin: {token: [a]}", "admin.token: [a] (expected: a string)"),
        bad("admin: {token: }", "admin.token: (null) (expected: a string)"),
        // balancing
        bad(
            "balancing: {algorithm: rr}",
            "balancing.algorithm: rr (expected: one of round_robin, weighted_round_robin, least_connections, random,"
                + " power_of_two, consistent_hash)"),
        bad(
            "balancing: {algorithm: ROUND_ROBIN}",
            "balancing.algorithm: ROUND_ROBIN (expected: one of round_robin, weighted_round_robin,"
                + " least_connections, random, power_of_two, consistent_hash)"),
        bad("balancing: {hash_key: cookie}", "balancing.hash_key: cookie (expected: client_ip or header:NAME)"),
        bad("balancing: {hash_key: ip}", "balancing.hash_key: ip (expected: client_ip or header:NAME)"),
        bad(
            "balancing: {hash_key: \"header:\"}",
            "balancing.hash_key: header: (expected: header:NAME with NAME a valid HTTP header name)"),
        bad(
            "balancing: {hash_key: \"header:X User\"}",
            "balancing.hash_key: header:X User (expected: header:NAME with NAME a valid HTTP header name)"),
        // health_check
        bad("health_check: {enabled: yes}", "health_check.enabled: yes (expected: true or false)"),
        bad("health_check: {enabled: 1}", "health_check.enabled: 1 (expected: true or false)"),
        bad(
            "health_check: {slow_start: -1s}",
            "health_check.slow_start: -1s (expected: a duration such as 250ms, 2s, 1m)"),
        bad("health_check: {slow_start: 5}", "health_check.slow_start: 5 (expected: a duration such as 250ms, 2s, 1m)"),
        bad(
            "health_check: {path: health}",
            "health_check.path: health (expected: a path starting with / without spaces, control or non-ASCII"
                + " characters)"),
        bad(
            "health_check: {path: \"/a b\"}",
            "health_check.path: /a b (expected: a path starting with / without spaces, control or non-ASCII"
                + " characters)"),
        bad(
            "health_check: {path: \"/a\\tb\"}",
            "health_check.path: \"/a\\tb\" (expected: a path starting with / without spaces, control or non-ASCII"
                + " characters)"),
        bad(
            "health_check: {interval: 0s}",
            "health_check.interval: 0s (expected: a duration greater than 0, such as 250ms, 2s, 1m)"),
        bad(
            "health_check: {interval: 0}",
            "health_check.interval: 0 (expected: a duration greater than 0, such as 250ms, 2s, 1m)"),
        bad("health_check: {timeout: 1x}", "health_check.timeout: 1x (expected: a duration such as 250ms, 2s, 1m)"),
        bad(
            "health_check: {healthy_threshold: 0}",
            "health_check.healthy_threshold: 0 (expected: an integer from 1 to 100)"),
        bad(
            "health_check: {unhealthy_threshold: 101}",
            "health_check.unhealthy_threshold: 101 (expected: an integer from 1 to 100)"),
        // proxy
        bad("proxy: {connect_timeout: 5}", "proxy.connect_timeout: 5 (expected: a duration such as 250ms, 2s, 1m)"),
        bad(
            "proxy: {connect_timeout: 0ms}",
            "proxy.connect_timeout: 0ms (expected: a duration greater than 0, such as 250ms, 2s, 1m)"),
        bad(
            "proxy: {response_timeout: 0s}",
            "proxy.response_timeout: 0s (expected: a duration greater than 0, such as 250ms, 2s, 1m)"),
        bad("proxy: {idle_timeout: 1d}", "proxy.idle_timeout: 1d (expected: a duration such as 250ms, 2s, 1m)"),
        bad(
            "proxy: {request_header_timeout: 0}",
            "proxy.request_header_timeout: 0 (expected: a duration greater than 0, such as 250ms, 2s, 1m)"),
        bad(
            "proxy: {pool_idle_timeout: 0s}",
            "proxy.pool_idle_timeout: 0s (expected: a duration greater than 0, such as 250ms, 2s, 1m)"),
        bad("proxy: {max_retries: 11}", "proxy.max_retries: 11 (expected: an integer from 0 to 10)"),
        bad(
            "proxy: {max_header_size: 1023}",
            "proxy.max_header_size: 1023 (expected: an integer from 1024 to 1048576)"),
        bad(
            "proxy: {max_header_size: 1048577}",
            "proxy.max_header_size: 1048577 (expected: an integer from 1024 to 1048576)"),
        bad("proxy: {max_body_size: -1}", "proxy.max_body_size: -1 (expected: an integer of 0 or more)"),
        bad("proxy: {max_body_size: 10MB}", "proxy.max_body_size: 10MB (expected: an integer of 0 or more)"),
        bad("proxy: {pool_max_idle: 10001}", "proxy.pool_max_idle: 10001 (expected: an integer from 0 to 10000)"),
        bad("proxy: {retry_backoff: {base: 0s}}",
            "proxy.retry_backoff.base: 0s (expected: a duration greater than 0, such as 250ms, 2s, 1m)"),
        bad("proxy: {retry_backoff: {base: 1s, max: 500ms}}",
            "proxy.retry_backoff.max: 500ms (expected: a duration not shorter than base (1s))"),
        bad("proxy: {retry_backoff: {jitter: true}}",
            "proxy.retry_backoff.jitter: true (expected: one of base, max)"),
        bad("proxy: {retry_budget: {percent: 101}}",
            "proxy.retry_budget.percent: 101 (expected: an integer from 0 to 100)"),
        bad("proxy: {retry_budget: {min_concurrent: -1}}",
            "proxy.retry_budget.min_concurrent: -1 (expected: an integer from 0 to 1000000)"),
        bad("proxy: {queue: {max_size: -1}}", "proxy.queue.max_size: -1 (expected: an integer from 0 to 1000000)"),
        bad("proxy: {queue: {timeout: 0s}}",
            "proxy.queue.timeout: 0s (expected: a duration greater than 0, such as 250ms, 2s, 1m)"),
        bad("proxy: {queue: 10}", "proxy.queue: 10 (expected: a map with keys max_size, timeout)"),
        bad("health_check: {passive: {consecutive_errors: 0}}",
            "health_check.passive.consecutive_errors: 0 (expected: an integer from 1 to 1000)"),
        bad("health_check: {passive: {count_5xx: yes}}",
            "health_check.passive.count_5xx: yes (expected: true or false)"),
        bad("health_check: {passive: {max_ejection_percent: 150}}",
            "health_check.passive.max_ejection_percent: 150 (expected: an integer from 0 to 100)"),
        bad("health_check: {passive: {base_ejection_time: 1m, max_ejection_time: 30s}}",
            "health_check.passive.max_ejection_time: 30s (expected: a duration not shorter than base_ejection_time"
                + " (1m))"),
        // rate_limit
        bad("rate_limit: {scope: global}", "rate_limit.scope: global (expected: local or cluster)"),
        bad("rate_limit: {redis: {url: \"http://r:6379\"}}",
            "rate_limit.redis.url: http://r:6379 (expected: " + ConfigBinder.REDIS_URL + ")"),
        bad("rate_limit: {redis: {url: \"redis-sentinel://s1:26379,s2:26379/0\"}}",
            "rate_limit.redis.url: redis-sentinel://s1:26379,s2:26379/0 (expected: a redis:// or rediss:// URL with a"
                + " host, or redis-sentinel://host:port[,host:port][/db]#master (rediss-sentinel:// for TLS))"),
        bad("rate_limit: {redis: {url: \"redis-sentinel://s1:26379,#m\"}}",
            "rate_limit.redis.url: redis-sentinel://s1:26379,#m (expected: " + ConfigBinder.REDIS_URL + ")"),
        bad("rate_limit: {redis: {failure_mode: fail}}",
            "rate_limit.redis.failure_mode: fail (expected: local, open or closed)"),
        bad("rate_limit: {redis: {db: 1}}", "rate_limit.redis.db: 1 (expected: one of url, timeout, failure_mode)"),
        bad("rate_limit: {enabled: maybe}", "rate_limit.enabled: maybe (expected: true or false)"),
        bad("rate_limit: {headers: on}", "rate_limit.headers: on (expected: true or false)"),
        bad("rate_limit: {client_key: client_ip}", "rate_limit.client_key: client_ip (expected: ip or header:NAME)"),
        bad(
            "rate_limit: {client_key: \"header:a,b\"}",
            "rate_limit.client_key: header:a,b (expected: header:NAME with NAME a valid HTTP header name)"),
        bad(
            "rate_limit: {trusted_proxies: 10.0.0.0/8}",
            "rate_limit.trusted_proxies: 10.0.0.0/8 (expected: a list of IP addresses or CIDRs)"),
        bad(
            "rate_limit: {trusted_proxies: [10.0.0.0/33]}",
            "rate_limit.trusted_proxies[0]: 10.0.0.0/33 (expected: an IP address or CIDR such as 10.0.0.0/8 or"
                + " ::1/128)"),
        bad(
            "rate_limit: {trusted_proxies: [\"::1/129\"]}",
            "rate_limit.trusted_proxies[0]: ::1/129 (expected: an IP address or CIDR such as 10.0.0.0/8 or ::1/128)"),
        bad(
            "rate_limit: {trusted_proxies: [10.0.0.1, proxy.example.com]}",
            "rate_limit.trusted_proxies[1]: proxy.example.com (expected: an IP address or CIDR such as 10.0.0.0/8"
                + " or ::1/128)"),
        bad(
            "rate_limit: {trusted_proxies: [10.0.0.0/]}",
            "rate_limit.trusted_proxies[0]: 10.0.0.0/ (expected: an IP address or CIDR such as 10.0.0.0/8 or"
                + " ::1/128)"),
        bad(
            "rate_limit: {trusted_proxies: [\"fe80::1%eth0\"]}",
            "rate_limit.trusted_proxies[0]: fe80::1%eth0 (expected: an IP address or CIDR such as 10.0.0.0/8 or"
                + " ::1/128)"),
        bad(
            "rate_limit: {trusted_proxies: [~]}",
            "rate_limit.trusted_proxies[0]: (null) (expected: an IP address or CIDR such as 10.0.0.0/8 or ::1/128)"),
        bad(
            "rate_limit: {default: {capacity: 0}}",
            "rate_limit.default.capacity: 0 (expected: an integer from 1 to 1000000000)"),
        bad(
            "rate_limit: {default: {capacity: 1000000001}}",
            "rate_limit.default.capacity: 1000000001 (expected: an integer from 1 to 1000000000)"),
        bad(
            "rate_limit: {default: {capacity: 1.5}}",
            "rate_limit.default.capacity: 1.5 (expected: an integer from 1 to 1000000000)"),
        bad(
            "rate_limit: {default: {rate_per_sec: 0}}",
            "rate_limit.default.rate_per_sec: 0 (expected: a number greater than 0)"),
        bad(
            "rate_limit: {default: {rate_per_sec: -1}}",
            "rate_limit.default.rate_per_sec: -1 (expected: a number greater than 0)"),
        bad(
            "rate_limit: {default: {rate_per_sec: .inf}}",
            "rate_limit.default.rate_per_sec: .inf (expected: a number greater than 0)"),
        bad(
            "rate_limit: {default: {rate_per_sec: NaN}}",
            "rate_limit.default.rate_per_sec: NaN (expected: a number greater than 0)"),
        bad(
            "rate_limit: {default: {rate_per_sec: 1e999}}",
            "rate_limit.default.rate_per_sec: 1e999 (expected: a number greater than 0)"),
        bad(
            "rate_limit: {clients: [{client_id: \"\", capacity: 1, rate_per_sec: 1}]}",
            "rate_limit.clients[0].client_id: \"\" (expected: a non-empty client id)"),
        bad(
            "rate_limit: {clients: [{capacity: 1, rate_per_sec: 1}]}",
            "rate_limit.clients[0].client_id: (missing) (expected: a non-empty client id)"),
        bad(
            "rate_limit: {clients: [{client_id: a, capacity: 0, rate_per_sec: 1}]}",
            "rate_limit.clients[0].capacity: 0 (expected: an integer from 1 to 1000000000)"),
        bad(
            "rate_limit: {clients: [{client_id: a, capacity: 1, rate_per_sec: 0}]}",
            "rate_limit.clients[0].rate_per_sec: 0 (expected: a number greater than 0)"),
        bad(
            "rate_limit: {clients: [a]}",
            "rate_limit.clients[0]: a (expected: a map with keys client_id, capacity, rate_per_sec)"),
        bad(
            "rate_limit: {clients: {client_id: a}}",
            "rate_limit.clients: {client_id: a} (expected: a list of maps with client_id, capacity, rate_per_sec)"),
        bad(
            "rate_limit:\n  clients:\n    - {client_id: a, capacity: 1, rate_per_sec: 1}\n"
                + "    - {client_id: a, capacity: 2, rate_per_sec: 2}",
            "rate_limit.clients[1].client_id: a (expected: a client_id not already used by rate_limit.clients[0])"),
        // store, shutdown, logging
        bad(
            "store: {url: \"jdbc:mysql://db/lb\"}",
            "store.url: jdbc:mysql://db/lb (expected: a JDBC URL starting with jdbc:h2: or jdbc:postgresql:)"),
        bad(
            "store: {url: \"jdbc:mysql://db/lb?user=a&password=hunter2\"}",
            "store.url: jdbc:mysql://db/lb?user=a&password=**** (expected: a JDBC URL starting with jdbc:h2: or"
                + " jdbc:postgresql:)"),
        bad("store: {username: [a]}", "store.username: [a] (expected: a string)"),
        bad("store: {password: {a: b}}", "store.password: {a: b} (expected: a string)"),
        bad(
            "store: {poll_interval: 0s}",
            "store.poll_interval: 0s (expected: a duration greater than 0, such as 250ms, 2s, 1m)"),
        bad("shutdown: {drain_delay: -1s}", "shutdown.drain_delay: -1s (expected: a duration such as 250ms, 2s, 1m)"),
        bad("shutdown: {grace_period: 30}", "shutdown.grace_period: 30 (expected: a duration such as 250ms, 2s, 1m)"),
        bad("logging: {access_log: off}", "logging.access_log: off (expected: true or false)"),
        bad("logging: {format: xml}", "logging.format: xml (expected: text or json)"),
        bad("config: {watch: yes}", "config.watch: yes (expected: true or false)"),
        bad(
            "config: {watch_interval: 0s}",
            "config.watch_interval: 0s (expected: a duration greater than 0, such as 250ms, 2s, 1m)"),
        bad("config: {watch_debounce: -1s}",
            "config.watch_debounce: -1s (expected: a duration such as 250ms, 2s, 1m)"));
  }

  private static Arguments bad(String yaml, String expected) {
    return Arguments.of(yaml, expected);
  }

  @ParameterizedTest
  @MethodSource("badValues")
  void aBadValueIsReportedWithItsPathAndTheRule(String yaml, String expected) {
    assertThat(errors(BACKEND + yaml)).containsExactly(expected);
  }

  @Nested
  class Backends {
    @ParameterizedTest
    @CsvSource(
        delimiter = '|',
        value = {
          "http://127.0.0.1:8081   | http://127.0.0.1:8081   | 127.0.0.1   | 8081",
          "http://127.0.0.1:8081/  | http://127.0.0.1:8081   | 127.0.0.1   | 8081",
          "http://127.0.0.1        | http://127.0.0.1:80     | 127.0.0.1   | 80",
          "HTTP://App.Example.COM/ | http://app.example.com:80 | app.example.com | 80",
          "http://my_service:3000  | http://my_service:3000  | my_service  | 3000",
          "http://localhost:65535  | http://localhost:65535  | localhost   | 65535",
          "'http://[::1]:8081'     | http://[::1]:8081       | ::1         | 8081",
          "'http://[::1]'          | http://[::1]:80         | ::1         | 80",
          "'http://[2001:DB8:0:0::1]:8081/' | http://[2001:db8::1]:8081 | 2001:db8::1 | 8081"
        })
    void aUrlIsNormalised(String written, String url, String host, int port) throws ConfigException {
      LbConfig config = load("backends:\n  - url: " + written + "\n    weight: 7\n");
      assertThat(config.backends()).containsExactly(new BackendConfig(url, host, port, 7));
    }

    @Test
    void aPlainStringIsShorthandForAUrlOfWeightOne() throws ConfigException {
      LbConfig config = load("backends:\n  - http://127.0.0.1:8081\n  - 'http://[::1]:8082'\n");
      assertThat(config.backends())
          .containsExactly(LOCAL_8081, new BackendConfig("http://[::1]:8082", "::1", 8082, 1));
    }

    @Test
    void weightDefaultsToOneAndMayBeZero() throws ConfigException {
      LbConfig config = load("backends:\n  - url: http://a:1\n  - {url: http://b:1, weight: 0}\n");
      assertThat(config.backends()).extracting(BackendConfig::weight).containsExactly(1, 0);
    }

    @ParameterizedTest
    @ValueSource(
        strings = {
          "ftp://x",
          "ws://example.com",
          "https://",
          "https://example.com/path",
          "example.com:8080",
          "http://",
          "http://example.com/path",
          "http://example.com:8080/path",
          "http://example.com?q=1",
          "http://example.com#top",
          "http://user@example.com",
          "http://user:pw@example.com:80",
          "'http://example.com:'",
          "http://example.com:abc",
          "http://example.com//",
          "http://exa mple.com",
          "http://-bad.example.com",
          "http://999.1.1.1",
          "http://::1:8080",
          "'http://[::1'",
          "'http://[::1]x'",
          "'http://[fe80::1%25eth0]:80'",
          "'http://[example.com]:80'"
        })
    void aUrlThatIsNotHttpHostPortIsRefused(String url) {
      String shown = url.startsWith("'") ? url.substring(1, url.length() - 1) : url;
      assertThat(errors("backends:\n  - url: " + url + "\n"))
          .containsExactly("backends[0].url: " + shown + " (expected: http://host[:port] or https://host[:port])");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "65536", "123456"})
    void aPortOutOfRangeIsRefused(String port) {
      assertThat(errors("backends: [{url: 'http://a:" + port + "'}]"))
          .containsExactly(
              "backends[0].url: http://a:" + port
                  + " (expected: http://host[:port] or https://host[:port] with a port from 1 to 65535)");
    }

    @Test
    void aWeightOutOfRangeIsRefused() {
      assertThat(errors("backends:\n  - {url: http://a, weight: 257}\n  - {url: http://b, weight: -1}\n"))
          .containsExactly(
              "backends[0].weight: 257 (expected: an integer from 0 to 256)",
              "backends[1].weight: -1 (expected: an integer from 0 to 256)");
    }

    @ParameterizedTest
    @CsvSource(
        delimiter = '|',
        value = {
          "backends:                    | backends: (null) (expected: a list of at least one backend)",
          "backends: []                 | backends: [] (expected: a list of at least one backend)",
          "backends: http://a           | backends: http://a (expected: a list of at least one backend)",
          "backends: {url: http://a}    | backends: {url: http://a} (expected: a list of at least one backend)"
        })
    void theListMustHoldAtLeastOneBackend(String yaml, String expected) {
      assertThat(errors(yaml)).containsExactly(expected);
    }

    @Test
    void anItemThatIsNeitherAUrlNorAMapIsRefused() {
      assertThat(errors("backends: [~, [http://a]]"))
          .containsExactly(
              "backends[0]: (null) (expected: a backend URL or a map with url (or dns and port, or srv), weight, max_connections, name and tls)",
              "backends[1]: [http://a] (expected: a backend URL or a map with url (or dns and port, or srv), weight, max_connections, name and tls)");
    }

    @Test
    void aShorthandItemIsCheckedAtItsOwnPath() {
      assertThat(errors("backends: [ftp://x]"))
          .containsExactly("backends[0]: ftp://x (expected: http://host[:port] or https://host[:port])");
    }

    @Test
    void aMapItemNeedsAUrl() {
      assertThat(errors("backends:\n  - weight: 2\n"))
          .containsExactly("backends[0].url: (missing) (expected: http://host[:port] or https://host[:port])");
    }

    @Test
    void aNameIsOptionalUniqueAndPlain() throws ConfigException {
      LbConfig config = load(
          "backends:\n  - {url: http://10.0.0.1, name: web-1}\n  - {url: http://10.0.0.2, name: Web_2.eu}\n"
              + "  - http://10.0.0.3\n");
      assertThat(config.backends()).extracting(BackendConfig::name).containsExactly("web-1", "Web_2.eu", "");

      String yaml =
          """
          backends:
            - {url: http://10.0.0.1, name: web}
            - {url: http://10.0.0.2, name: web}
            - {url: http://10.0.0.3, name: "a b"}
            - {url: http://10.0.0.4, name: -x}
            - {url: http://10.0.0.5, name: "http://10.0.0.5"}
            - {url: http://10.0.0.6, name: ""}
          """;
      String rule = "(expected: a name of 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or a digit)";
      assertThat(errors(yaml))
          .containsExactly(
              "backends[1].name: web (expected: a name not already used by backends[0])",
              "backends[2].name: a b " + rule,
              "backends[3].name: -x " + rule,
              "backends[4].name: http://10.0.0.5 " + rule,
              "backends[5].name: \"\" " + rule);
    }

    @Test
    void theSecondOfTwoEqualBackendsIsAnError() {
      String yaml =
          """
          backends:
            - http://127.0.0.1:8081
            - url: http://127.0.0.1:8082
            - url: http://127.0.0.1:8081/
            - HTTP://127.0.0.1:8082
            - 'http://[::1]'
            - 'http://[0:0:0:0:0:0:0:1]:80'
            - http://Example.com
            - http://example.com:80
          """;
      assertThat(errors(yaml))
          .containsExactly(
              "backends[2].url: http://127.0.0.1:8081/ (expected: a URL not already used by backends[0])",
              "backends[3]: HTTP://127.0.0.1:8082 (expected: a URL not already used by backends[1])",
              "backends[5]: http://[0:0:0:0:0:0:0:1]:80 (expected: a URL not already used by backends[4])",
              "backends[7]: http://example.com:80 (expected: a URL not already used by backends[6])");
    }
  }

  @Nested
  class UnknownKeys {
    static Stream<Arguments> sections() {
      return Stream.of(
          Arguments.of("", "", "listen, admin, backends, balancing, health_check, proxy, rate_limit, store, shutdown,"
              + " logging, upstreams, routes, discovery, config"),
          Arguments.of("discovery", "discovery.", "resolvers, min_refresh, max_refresh, nx_hold, timeout"),
          Arguments.of("listen", "listen.", "host, port, workers, max_connections, transport, tls, h2c, http2"),
          Arguments.of("admin", "admin.", "host, port, token"),
          Arguments.of("balancing", "balancing.", "algorithm, hash_key"),
          Arguments.of(
              "health_check",
              "health_check.",
              "enabled, slow_start, path, interval, timeout, healthy_threshold, unhealthy_threshold, passive"),
          Arguments.of(
              "proxy",
              "proxy.",
              "connect_timeout, response_timeout, idle_timeout, request_header_timeout, max_retries,"
                  + " max_header_size, max_body_size, pool_idle_timeout, pool_max_idle, retry_backoff, retry_budget,"
                  + " queue"),
          Arguments.of(
              "rate_limit", "rate_limit.",
              "enabled, client_key, trusted_proxies, headers, default, clients, scope, redis"),
          Arguments.of("store", "store.", "url, username, password, poll_interval"),
          Arguments.of("shutdown", "shutdown.", "drain_delay, grace_period"),
          Arguments.of("config", "config.", "watch, watch_interval, watch_debounce"),
          Arguments.of("logging", "logging.", "access_log, format"));
    }

    @ParameterizedTest
    @MethodSource("sections")
    void anUnknownKeyIsAnErrorNamingTheKnownOnes(String section, String prefix, String known) {
      String yaml = BACKEND + (section.isEmpty() ? "foo: 1\n" : section + ":\n  foo: 1\n");
      assertThat(errors(yaml)).containsExactly(prefix + "foo: 1 (expected: one of " + known + ")");
    }

    @Test
    void anUnknownKeyInsideAListItemIsAnError() {
      String yaml =
          "backends: [{url: http://a, wieght: 2}]\n"
              + "rate_limit:\n  default: {capacity: 1, rate: 1}\n"
              + "  clients: [{client_id: a, capacity: 1, rate_per_sec: 1, burst: 5}]\n";
      assertThat(errors(yaml))
          .containsExactly(
              "backends[0].wieght: 2 (expected: one of url, dns, srv, port, weight, max_connections, name, tls)",
              "rate_limit.default.rate: 1 (expected: one of capacity, rate_per_sec)",
              "rate_limit.clients[0].burst: 5 (expected: one of client_id, capacity, rate_per_sec)");
    }

    @Test
    void theExampleOfTheBrief() {
      assertThat(errors(BACKEND + "listen:\n  prot: 8080\n"))
          .containsExactly(
              "listen.prot: 8080 (expected: one of host, port, workers, max_connections, transport, tls, h2c, http2)");
    }

    @Test
    void anUnknownSectionIsShownInFlowStyle() {
      assertThat(errors(BACKEND + "lisen:\n  host: x\n  port: 1\n"))
          .containsExactly(
              "lisen: {host: x, port: 1} (expected: one of listen, admin, backends, balancing, health_check, proxy,"
                  + " rate_limit, store, shutdown, logging, upstreams, routes, discovery, config)");
    }

    @Test
    void anEnvironmentReferenceUnderAnUnknownKeyIsNotReportedAsWell() {
      assertThat(errors(BACKEND + "listen: {prot: \"${PORT}\"}"))
          .containsExactly("listen.prot: ${PORT} (expected: one of host, port, workers, max_connections, transport, "
              + "tls, h2c, http2)");
    }
  }

  @Nested
  class WrongTypes {
    @Test
    void aSectionThatIsNotAMapIsReportedOnceAndNotItsKeys() {
      assertThat(errors(BACKEND + "listen: 5\nadmin: {port: 8080}\nrate_limit: {default: [1, 2]}\nlogging: [a]"))
          .containsExactly(
              "listen: 5 (expected: a map with keys host, port, workers, max_connections, transport, tls, h2c, http2)",
              "rate_limit.default: [1, 2] (expected: a map with keys capacity, rate_per_sec)",
              "logging: [a] (expected: a map with keys access_log, format)");
    }

    @ParameterizedTest
    @CsvSource(
        delimiter = '|',
        value = {"5 | 5", "[a, b] | [a, b]", "just text | just text"})
    void aDocumentThatIsNotAMapIsReportedOnce(String yaml, String shown) {
      assertThat(errors(yaml))
          .containsExactly(
              "(root): "
                  + shown
                  + " (expected: a map with keys listen, admin, backends, balancing, health_check, proxy, rate_limit,"
                  + " store, shutdown, logging, upstreams, routes, discovery, config)");
    }

    @Test
    void aLongValueIsShortened() {
      String longHost = "h".repeat(300);
      assertThat(errors(BACKEND + "listen: {port: " + longHost + "}"))
          .containsExactly("listen.port: " + "h".repeat(97) + "... (expected: an integer from 0 to 65535)");
    }

    @Test
    void blanksThatWouldNotShowAreQuoted() {
      assertThat(errors(BACKEND + "listen: {port: \" 80\"}"))
          .containsExactly("listen.port: \" 80\" (expected: an integer from 0 to 65535)");
    }
  }

  @Nested
  class ManyErrors {
    @Test
    void everyBadFieldIsReportedOnceInDocumentOrder() {
      String yaml =
          """
          logging:
            format: xml
          listen:
            prot: 8080
            port: 70000
            workers: many
          backends:
            - url: http://127.0.0.1:8081
            - url: ftp://x
            - weight: 2
          proxy:
            connect_timeout: 5
            max_retries: 11
          admin:
            port: 9090
            host: ""
          rate_limit:
            clients:
              - {client_id: a}
          store:
            url: "jdbc:mysql://x"
          """;
      ConfigException e = thrown(yaml);
      assertThat(e.errors())
          .containsExactly(
              "logging.format: xml (expected: text or json)",
              "listen.prot: 8080 (expected: one of host, port, workers, max_connections, transport, tls, h2c, http2)",
              "listen.port: 70000 (expected: an integer from 0 to 65535)",
              "listen.workers: many (expected: an integer from 0 to 1024)",
              "backends[1].url: ftp://x (expected: http://host[:port] or https://host[:port])",
              "backends[2].url: (missing) (expected: http://host[:port] or https://host[:port])",
              "proxy.connect_timeout: 5 (expected: a duration such as 250ms, 2s, 1m)",
              "proxy.max_retries: 11 (expected: an integer from 0 to 10)",
              "admin.host: \"\" (expected: a host name or IP address)",
              "rate_limit.clients[0].capacity: (missing) (expected: an integer from 1 to 1000000000)",
              "rate_limit.clients[0].rate_per_sec: (missing) (expected: a number greater than 0)",
              "store.url: jdbc:mysql://x (expected: a JDBC URL starting with jdbc:h2: or jdbc:postgresql:)");
      assertThat(e.getMessage()).isEqualTo(String.join("\n", e.errors()));
    }

    @Test
    void thePortClashIsReportedWhereAdminPortStands() {
      assertThat(errors("admin: {port: 8000}\nlisten: {port: 8000, workers: -1}\n" + BACKEND))
          .containsExactly(
              "admin.port: 8000 (expected: a port different from listen.port, or 0)",
              "listen.workers: -1 (expected: an integer from 0 to 1024)");
    }

    @Test
    void aMissingBackendsListIsReportedAfterEverythingElse() {
      assertThat(errors("listen: {port: x}\n"))
          .containsExactly(
              "listen.port: x (expected: an integer from 0 to 65535)",
              "backends: (missing) (expected: a list of at least one backend)");
    }
  }

  @Nested
  class DuplicateKeys {
    @Test
    void aDuplicateKeyIsReportedAtItsPlaceAmongTheOtherErrors() {
      String yaml =
          """
          listen:
            port: 8000
            workers: -1
            port: 8001
          backends:
            - {url: http://a, weight: 1, weight: 2}
          logging: {format: xml}
          listen: {}
          """;
      assertThat(errors(yaml))
          .containsExactly(
              "listen.workers: -1 (expected: an integer from 0 to 1024)",
              "listen.port: 8001 (expected: each key once; this one is a duplicate)",
              "backends[0].weight: 2 (expected: each key once; this one is a duplicate)",
              "logging.format: xml (expected: text or json)",
              "listen: {} (expected: each key once; this one is a duplicate)");
    }

    @Test
    void theFirstValueOfADuplicateKeyIsTheOneChecked() {
      assertThat(errors(BACKEND + "admin: {port: 70000, port: 1}"))
          .containsExactly(
              "admin.port: 70000 (expected: an integer from 0 to 65535)",
              "admin.port: 1 (expected: each key once; this one is a duplicate)");
    }
  }

  @Nested
  class Environment {
    private final Map<String, String> env =
        Map.of("PORT", "8000", "HOST", "10.0.0.5", "ON", "true", "RATE", "0.5", "EMPTY", "", "T", "250ms");

    private LbConfig load(String yaml) throws ConfigException {
      return ConfigLoader.parse(yaml, env);
    }

    @Test
    void referencesBindToNumbersBooleansAndDurations() throws ConfigException {
      LbConfig config =
          load(
              BACKEND
                  + "listen: {port: \"${PORT}\", workers: \"${WORKERS:-2}\"}\n"
                  + "health_check: {enabled: \"${ON}\", interval: \"${T}\", timeout: \"${TIMEOUT:-3s}\"}\n"
                  + "rate_limit: {default: {rate_per_sec: \"${RATE}\"}}\n");
      assertThat(config.listen().port()).isEqualTo(8000);
      assertThat(config.listen().workers()).isEqualTo(2);
      assertThat(config.healthCheck().enabled()).isTrue();
      assertThat(config.healthCheck().interval()).isEqualTo(Duration.ofMillis(250));
      assertThat(config.healthCheck().timeout()).isEqualTo(Duration.ofSeconds(3));
      assertThat(config.rateLimit().defaultLimit().ratePerSec()).isEqualTo(0.5);
    }

    @Test
    void aPlainScalarMayHoldAReference() throws ConfigException {
      assertThat(load(BACKEND + "listen:\n  port: ${PORT:-8080}\n").listen().port()).isEqualTo(8000);
      assertThat(load(BACKEND + "admin:\n  port: ${ADMIN_PORT:-9191}\n").admin().port()).isEqualTo(9191);
    }

    @Test
    void severalReferencesInOneValue() throws ConfigException {
      assertThat(load("backends: [\"http://${HOST}:${PORT}\"]").backends())
          .containsExactly(new BackendConfig("http://10.0.0.5:8000", "10.0.0.5", 8000, 1));
    }

    @Test
    void anEmptyDefaultGivesAnEmptyString() throws ConfigException {
      assertThat(load(BACKEND + "admin: {token: \"${LB_ADMIN_TOKEN:-}\"}").admin().token()).isEmpty();
    }

    @Test
    void aDefaultAlsoReplacesASetButEmptyVariable() throws ConfigException {
      assertThat(load(BACKEND + "admin: {token: \"${EMPTY:-dflt}\"}").admin().token()).isEqualTo("dflt");
      assertThat(load(BACKEND + "admin: {token: \"${EMPTY}\"}").admin().token()).isEmpty();
    }

    @Test
    void aDoubledDollarEscapesALiteralReference() throws ConfigException {
      assertThat(load(BACKEND + "admin: {token: \"a$${HOST}b\"}").admin().token()).isEqualTo("a${HOST}b");
    }

    @Test
    void anUnsetVariableIsAnErrorNamingIt() {
      assertThat(errors(BACKEND + "admin: {token: \"${LB_TOKEN}\"}\nlisten: {port: \"${LB_PORT}\"}", env))
          .containsExactly(
              "admin.token: ${LB_TOKEN} (expected: environment variable LB_TOKEN to be set)",
              "listen.port: ${LB_PORT} (expected: environment variable LB_PORT to be set)");
    }

    @Test
    void everyUnsetVariableOfAValueIsReported() {
      assertThat(errors("backends: [\"http://${A}:${HOST}:${B}\"]", env))
          .containsExactly(
              "backends[0]: ${A} (expected: environment variable A to be set)",
              "backends[0]: ${B} (expected: environment variable B to be set)");
    }

    @Test
    void aMalformedReferenceIsAnError() {
      assertThat(errors(BACKEND + "admin: {token: \"${not a name}\"}", env))
          .containsExactly(
              "admin.token: ${not a name} (expected: ${NAME} or ${NAME:-default}, or $${ for a literal ${)");
    }

    @Test
    void theSubstitutedValueIsWhatIsChecked() {
      assertThat(errors(BACKEND + "listen: {port: \"${HOST}\"}", env))
          .containsExactly("listen.port: 10.0.0.5 (expected: an integer from 0 to 65535)");
      assertThat(errors(BACKEND + "listen: {port: \"${NOPE:-}\"}", env))
          .containsExactly("listen.port: \"\" (expected: an integer from 0 to 65535)");
    }

    @Test
    void substitutionHappensAfterParsingSoValuesCannotChangeTheYaml() throws ConfigException {
      Map<String, String> tricky = Map.of("T", "x\nlisten: {port: 1}", "P", "[1, 2]");
      LbConfig config = ConfigLoader.parse(BACKEND + "admin: {token: \"${T}\"}", tricky);
      assertThat(config.admin().token()).isEqualTo("x\nlisten: {port: 1}");
      assertThat(config.listen().port()).isEqualTo(8080);
      assertThat(errors(BACKEND + "listen: {port: \"${P}\"}", tricky))
          .containsExactly("listen.port: [1, 2] (expected: an integer from 0 to 65535)");
    }
  }

  @Nested
  class FromFiles {
    @TempDir Path dir;

    @Test
    void loadsAFile() throws Exception {
      Path file = dir.resolve("lb.yaml");
      Files.writeString(file, BACKEND + "listen:\n  port: ${P}\n");
      assertThat(ConfigLoader.load(file, Map.of("P", "81")).listen().port()).isEqualTo(81);
    }

    @Test
    void aByteOrderMarkIsSkipped() throws Exception {
      Path file = dir.resolve("bom.yaml");
      Files.writeString(file, "\uFEFF" + BACKEND);
      assertThat(ConfigLoader.load(file, Map.of()).backends()).containsExactly(LOCAL_8081);
    }

    @Test
    void aMissingFileIsOneLine() {
      Path file = dir.resolve("nope.yaml");
      assertThatThrownBy(() -> ConfigLoader.load(file, Map.of()))
          .isInstanceOf(ConfigException.class)
          .hasMessage(file + ": file not found");
    }

    @Test
    void aDirectoryIsOneLine() {
      assertThatThrownBy(() -> ConfigLoader.load(dir, Map.of()))
          .isInstanceOf(ConfigException.class)
          .hasMessage(dir + ": cannot read (a directory)");
    }

    @Test
    void textThatIsNotUtf8IsOneLine() throws IOException {
      Path file = dir.resolve("latin1.yaml");
      Files.write(file, "admin: {token: caf\u00e9}\n".getBytes(StandardCharsets.ISO_8859_1));
      assertThatThrownBy(() -> ConfigLoader.load(file, Map.of()))
          .isInstanceOf(ConfigException.class)
          .hasMessage(file + ": not UTF-8 text");
    }

    @Test
    void aSyntaxErrorNamesTheFileLineAndColumn() throws IOException {
      Path file = dir.resolve("broken.yaml");
      Files.writeString(file, "listen:\n  port: 8080\n  host: a: b\n");
      ConfigException e = thrown(() -> ConfigLoader.load(file, Map.of()));
      assertThat(e.errors())
          .containsExactly(file + ": YAML syntax error at line 3, column 10: mapping values are not allowed here");
    }

    @Test
    void theSampleConfigurationLoadsWithEveryDefault() throws ConfigException {
      LbConfig config = ConfigLoader.load(Path.of("../config/lb.yaml"), Map.of());
      assertThat(config)
          .isEqualTo(
              LbConfig.withBackends(
                  List.of(
                      LOCAL_8081,
                      new BackendConfig("http://127.0.0.1:8082", "127.0.0.1", 8082, 1),
                      new BackendConfig("http://127.0.0.1:8083", "127.0.0.1", 8083, 1))));
    }

    @Test
    void theSampleConfigurationTakesSecretsFromTheEnvironment() throws ConfigException {
      LbConfig config =
          ConfigLoader.load(
              Path.of("../config/lb.yaml"), Map.of("LB_ADMIN_TOKEN", "t0k3n", "LB_STORE_PASSWORD", "pw"));
      assertThat(config.admin().token()).isEqualTo("t0k3n");
      assertThat(config.store().password()).isEqualTo("pw");
    }
  }

  @Nested
  class SyntaxErrors {
    @ParameterizedTest
    @CsvSource(
        delimiter = '|',
        value = {
          "'a: b: c'             | YAML syntax error at line 1, column 5: mapping values are not allowed here",
          "'x: [1, 2\n'          | YAML syntax error at line 2, column 1: while parsing a flow sequence:"
              + " expected ',' or ']', but got <stream end>",
          "'a: &x 1\nb: *x'      | YAML syntax error at line 2, column 4: aliases (*x) are not supported",
          "'a: 1\n---\nb: 2'     | YAML syntax error at line 3, column 1: only one YAML document is allowed",
          "'\tlisten: {}'        | YAML syntax error at line 1, column 1: while scanning for the next token: found"
              + " character '\\t(TAB)' that cannot start any token. (Do not use \\t(TAB) for indentation)"
        })
    void aSyntaxErrorIsOneLineWithLineAndColumn(String yaml, String expected) {
      assertThat(errors(yaml.replace("\\n", "\n").replace("\\t", "\t"))).containsExactly(expected);
    }
  }

  private static ConfigException thrown(String yaml) {
    return thrown(() -> ConfigLoader.parse(yaml, Map.of()));
  }

  private static ConfigException thrown(Executable load) {
    return assertThrows(ConfigException.class, load);
  }
}
