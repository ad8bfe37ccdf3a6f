package dev.lb.config;

import static dev.lb.config.ConfigLoaderTest.errors;
import static dev.lb.config.ConfigLoaderTest.load;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.config.RateLimitConfig.Limit;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code upstreams}, {@code routes}, {@code discovery} and DNS backends in the configuration. */
class UpstreamConfigTest {
  private static final String ISSUE_EXAMPLE = """
      upstreams:
        api:
          backends: [ { url: http://10.0.0.5:8080, weight: 2 }, { dns: api-hl.prod.svc.cluster.local, port: 8080 } ]
          balancing: { algorithm: least_connections }
          health_check: { path: /ready }
          rate_limit: { default: { capacity: 50, rate_per_sec: 5 } }
        web:
          backends: [ { srv: _http._tcp.web-hl.prod.svc.cluster.local } ]
      routes:
        - { host: api.example.com, path_prefix: /v1/, upstream: api }
        - { host: "*.example.com", upstream: web }
        - { path_prefix: /static/, upstream: web, strip_prefix: false }
      """;

  @Test
  void theIssuesExampleLoadsWithoutTopLevelBackends() throws ConfigException {
    LbConfig config = load(ISSUE_EXAMPLE);
    assertThat(config.backends()).isEmpty();
    assertThat(config.allUpstreams()).extracting(UpstreamConfig::name).containsExactly("api", "web");
    UpstreamConfig api = config.upstreams().get(0);
    assertThat(api.backends()).containsExactly(new BackendConfig("http://10.0.0.5:8080", "10.0.0.5", 8080, 2));
    assertThat(api.dns()).containsExactly(
        new DnsBackendConfig(DnsBackendConfig.Kind.DNS, "api-hl.prod.svc.cluster.local", 8080, 1, 0));
    assertThat(api.balancing().algorithm()).isEqualTo(Algorithm.LEAST_CONNECTIONS);
    assertThat(api.healthCheck().path()).isEqualTo("/ready");
    assertThat(api.rateLimit()).isEqualTo(new Limit(50, 5));
    UpstreamConfig web = config.upstreams().get(1);
    assertThat(web.dns()).containsExactly(
        new DnsBackendConfig(DnsBackendConfig.Kind.SRV, "_http._tcp.web-hl.prod.svc.cluster.local", 0, 1, 0));
    assertThat(web.rateLimit()).isNull();
    assertThat(config.routes()).containsExactly(
        new RouteConfig("api.example.com", "/v1/", "api", false),
        new RouteConfig("*.example.com", null, "web", false),
        new RouteConfig(null, "/static/", "web", false));
  }

  @Test
  void anUpstreamInheritsTheTopLevelBalancingAndHealthCheckKeysItDoesNotSet() throws ConfigException {
    LbConfig config = load("""
        backends: [http://127.0.0.1:8081]
        balancing: { algorithm: random }
        health_check: { enabled: true, interval: 3s, path: /h }
        upstreams:
          api:
            backends: [http://127.0.0.1:8082]
            health_check: { path: /ready }
        """);
    assertThat(config.allUpstreams()).extracting(UpstreamConfig::name).containsExactly("default", "api");
    UpstreamConfig api = config.upstreams().get(0);
    assertThat(api.balancing().algorithm()).isEqualTo(Algorithm.RANDOM);
    assertThat(api.healthCheck().enabled()).isTrue();
    assertThat(api.healthCheck().interval()).isEqualTo(Duration.ofSeconds(3));
    assertThat(api.healthCheck().path()).isEqualTo("/ready");
    UpstreamConfig first = config.allUpstreams().get(0);
    assertThat(first.backends()).extracting(BackendConfig::url).containsExactly("http://127.0.0.1:8081");
    assertThat(first.healthCheck().path()).isEqualTo("/h");
  }

  @Test
  void dnsBackendsMayStandInTheTopLevelList() throws ConfigException {
    LbConfig config = load("backends: [ { dns: App.Local., port: 80, weight: 3, max_connections: 7 } ]\n");
    assertThat(config.backends()).isEmpty();
    assertThat(config.dnsBackends()).containsExactly(
        new DnsBackendConfig(DnsBackendConfig.Kind.DNS, "app.local", 80, 3, 7));
    assertThat(config.allUpstreams()).extracting(UpstreamConfig::name).containsExactly("default");
  }

  @Test
  void printedConfigurationsLoadBackToThemselves() throws ConfigException {
    LbConfig config = load("backends: [ { dns: app.local, port: 80 } ]\n" + ISSUE_EXAMPLE.replace("api:", "api2:")
        .replace("upstream: api", "upstream: api2") + """
        discovery: { resolvers: ["127.0.0.1:5353", "[::1]:53", 10.0.0.1], min_refresh: 2s, max_refresh: 1m,
                     nx_hold: 0s, timeout: 500ms }
        """);
    assertThat(ConfigLoader.parse(ConfigPrinter.toYaml(config, false), Map.of())).isEqualTo(config);
    assertThat(config.discovery()).isEqualTo(new DiscoveryConfig(List.of("127.0.0.1:5353", "[::1]:53", "10.0.0.1"),
        Duration.ofSeconds(2), Duration.ofMinutes(1), Duration.ZERO, Duration.ofMillis(500)));
  }

  @Test
  void aReloadDiffNamesTheUpstreamAndRouteThatChanged() throws ConfigException {
    LbConfig before = load(ISSUE_EXAMPLE);
    LbConfig after = load(ISSUE_EXAMPLE.replace("/v1/", "/v2/").replace("{ url: http://10.0.0.5:8080, weight: 2 }, ",
        ""));
    assertThat(ConfigDiff.changes(before, after))
        .anySatisfy(line -> assertThat(line).startsWith("upstreams.api.backends: "))
        .anySatisfy(line -> assertThat(line).startsWith("routes: "))
        .hasSize(2);
  }

  @Test
  void mistakesAreNamedByTheirField() {
    assertThat(errors("""
        backends: [http://127.0.0.1:8081]
        upstreams:
          default: { backends: [http://127.0.0.1:8082] }
          "bad name": { backends: [http://127.0.0.1:8082] }
          empty: { backends: [] }
          both: { backends: [ { url: http://127.0.0.1:8083, dns: a.b, port: 1 } ] }
          noport: { backends: [ { dns: a.b } ] }
          srvport: { backends: [ { srv: _http._tcp.a.b, port: 80 } ] }
          badsrv: { backends: [ { srv: a.b } ] }
          limit: { backends: [http://127.0.0.1:8084], rate_limit: { default: { capacity: 5 } } }
        routes:
          - { host: "a.*.com", upstream: empty }
          - { path_prefix: v1, upstream: nowhere }
          - "x"
          - { path_prefix: /a/../b, upstream: empty }
          - { upstream: empty, strip_prefix: true }
        discovery: { resolvers: [dns.google], min_refresh: 5s, max_refresh: 1s }
        """)).containsExactly(
            "upstreams.default: default (expected: a name other than default (the top-level backends are the"
                + " upstream named default))",
            "upstreams.bad name: bad name (expected: an upstream name of 1 to 64 letters, digits, '.', '_' or '-',"
                + " starting with a letter or a digit)",
            "upstreams.empty.backends: [] (expected: a list of at least one backend)",
            "upstreams.both.backends[0]: {url: http://127.0.0.1:8083, dns: a.b, port: 1} (expected: exactly one of"
                + " url, dns (with port) and srv)",
            "upstreams.noport.backends[0].port: (missing) (expected: an integer from 1 to 65535, required with dns)",
            "upstreams.srvport.backends[0].port: 80 (expected: no port beside srv (the records give it))",
            "upstreams.badsrv.backends[0].srv: a.b (expected: an SRV name such as"
                + " _http._tcp.web-hl.prod.svc.cluster.local)",
            "upstreams.limit.rate_limit.default.rate_per_sec: (missing) (expected: a number greater than 0)",
            "routes[0].host: a.*.com (expected: a host name, or *. and a domain such as *.example.com)",
            "routes[1].path_prefix: v1 (expected: a path in normal form starting with /: must start with '/')",
            "routes[1].upstream: nowhere (expected: the name of an upstream: one of badsrv, both, default, empty,"
                + " limit, noport, srvport)",
            "routes[2]: x (expected: a map with keys host, path_prefix, upstream, strip_prefix)",
            "routes[3].path_prefix: /a/../b (expected: a path in normal form starting with /: not in normal form"
                + " (write it as /b))",
            "routes[4].strip_prefix: true (expected: false without a path_prefix (there is nothing to strip))",
            "discovery.resolvers[0]: dns.google (expected: a name server's IP address, with :port if not 53"
                + " ([v6]:port for IPv6))",
            "discovery.max_refresh: 1s (expected: a duration not shorter than min_refresh (5s))");
  }
}
