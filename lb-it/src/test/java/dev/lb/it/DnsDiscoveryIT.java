package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lb.config.ConfigLoader;
import dev.lb.it.support.TestBackend;
import dev.lb.testing.Dnsmasq;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Members found in DNS, against a dnsmasq of the test's own on loopback: a name whose addresses go 3 -> 5 -> 2 under
 * steady load (an address with nothing behind it among them: it is probed before it takes traffic), a name that
 * answers NXDOMAIN for less than {@code nx_hold}, and the DNS server gone. Not one client request may fail.
 * Backends listen on 127.0.0.2 to 127.0.0.6 on one port, as the pods behind a headless Service do.
 */
class DnsDiscoveryIT {
  private static final String NAME = "app." + Dnsmasq.DOMAIN;
  private static final String NOBODY = "127.0.0.9";

  @TempDir Path dir;
  private final List<TestBackend> pods = new ArrayList<>();
  private Dnsmasq dns;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    pods.add(TestBackend.start("pod2", "127.0.0.2", 0));
    int port = pods.get(0).port();
    for (int i = 3; i <= 6; i++) {
      pods.add(TestBackend.start("pod" + i, "127.0.0." + i, port));
    }
    dns = Dnsmasq.start(dir, Map.of(NAME, addresses(2, 3, 4)));
  }

  @AfterEach
  void stop() throws Exception {
    pods.forEach(TestBackend::close);
    if (dns != null) {
      dns.close();
    }
  }

  private static List<String> addresses(int... last) {
    List<String> out = new ArrayList<>();
    for (int n : last) {
      out.add("127.0.0." + n);
    }
    return out;
  }

  private Lb lb(String nxHold) throws Exception {
    String yaml = """
        listen: { host: 127.0.0.1, port: 0, workers: 2 }
        admin: { host: 127.0.0.1, port: 0 }
        backends: [ { dns: %s, port: %d } ]
        health_check: { enabled: true, path: /health, interval: 300ms, timeout: 1s, unhealthy_threshold: 1 }
        discovery: { resolvers: ["127.0.0.1:%d"], min_refresh: 1s, max_refresh: 2s, nx_hold: %s, timeout: 500ms }
        """.formatted(NAME, pods.get(0).port(), dns.port(), nxHold);
    Path file = dir.resolve("lb.yaml");
    Files.writeString(file, yaml);
    return Lb.of(ConfigLoader.load(file), file);
  }

  /**
   * Steady load, from once the first answer's members passed their first probe: until then the upstream has no backend
   * to send a request to (503), as it would at any start before DNS answers.
   */
  private Traffic traffic(Lb lb, int threads) throws Exception {
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      JsonNode backends = lb.backendsJson();
      assertThat(backends).hasSize(3).allSatisfy(b -> assertThat(b.path("healthy").asBoolean()).isTrue());
    });
    return new Traffic(http, lb.port(), threads);
  }

  /** The backends' URLs now in {@code /backends}. */
  private static List<String> members(Lb lb) throws Exception {
    List<String> out = new ArrayList<>();
    lb.backendsJson().forEach(n -> out.add(n.path("url").asText()));
    return out;
  }

  private String url(int last) {
    return "http://127.0.0." + last + ":" + pods.get(0).port();
  }

  private static Map<String, Long> snapshot(Traffic t) {
    Map<String, Long> out = new HashMap<>();
    t.servedBy.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  @Test
  void membersFollowTheNameFromThreeToFiveToTwoWithoutAFailedRequest() throws Exception {
    try (Lb lb = lb("10s"); Traffic traffic = traffic(lb, 4)) {
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertThat(traffic.servedBy.keySet()).containsExactlyInAnyOrder("pod2", "pod3", "pod4"));

      List<String> five = addresses(2, 3, 4, 5, 6);
      five.add(NOBODY);
      dns.hosts(Map.of(NAME, five));
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertThat(traffic.servedBy.keySet()).contains("pod5", "pod6"));
      JsonNode nobody = lb.backendJson("http://" + NOBODY + ":" + pods.get(0).port());
      assertThat(nobody.path("healthy").asBoolean()).as("probed before it takes traffic: nothing listens there")
          .isFalse();

      dns.hosts(Map.of(NAME, addresses(2, 3)));
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertThat(members(lb)).containsExactly(url(2), url(3)));
      // Requests already on their way to a removed pod finish there: count from once those have answered.
      long removedAt = traffic.requests.get();
      await().atMost(Duration.ofSeconds(30)).until(() -> traffic.requests.get() > removedAt + 50);
      Map<String, Long> after = snapshot(traffic);
      long requests = traffic.requests.get();
      await().atMost(Duration.ofSeconds(30)).until(() -> traffic.requests.get() > requests + 200);
      Map<String, Long> later = snapshot(traffic);
      for (String gone : List.of("pod4", "pod5", "pod6")) {
        assertThat(later.get(gone)).as("%s takes no requests once removed", gone).isEqualTo(after.get(gone));
      }
      assertThat(later.get("pod2")).isGreaterThan(after.get("pod2"));
      assertThat(traffic.failures).as("failed client requests").isEmpty();
    }
  }

  @Test
  void nxdomainShorterThanTheHoldRemovesNothingAndAGoneServerLeavesTheLastSetServing() throws Exception {
    try (Lb lb = lb("30s"); Traffic traffic = traffic(lb, 2)) {
      assertThat(members(lb)).containsExactly(url(2), url(3), url(4));

      dns.hosts(Map.of("other." + Dnsmasq.DOMAIN, addresses(7)));
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertThat(dnsStatus(lb).path("nx_since").isNull()).as("NXDOMAIN seen").isFalse());
      assertThat(members(lb)).as("held: nx_hold is 30 s").containsExactly(url(2), url(3), url(4));
      dns.hosts(Map.of(NAME, addresses(2, 3, 4)));
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertThat(dnsStatus(lb).path("nx_since").isNull()).as("answering again").isTrue());
      assertThat(members(lb)).containsExactly(url(2), url(3), url(4));

      dns.stop();
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertThat(dnsStatus(lb).path("last_error").asText()).isNotEmpty().isNotEqualTo("null"));
      long requests = traffic.requests.get();
      await().atMost(Duration.ofSeconds(30)).until(() -> traffic.requests.get() > requests + 100);
      assertThat(members(lb)).as("the last good set keeps serving").containsExactly(url(2), url(3), url(4));
      assertThat(traffic.servedBy.keySet()).containsExactlyInAnyOrder("pod2", "pod3", "pod4");
      assertThat(traffic.failures).as("failed client requests").isEmpty();
    }
  }

  @Test
  void nxdomainLongerThanTheHoldEmptiesTheUpstream() throws Exception {
    try (Lb lb = lb("2s")) {
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(members(lb)).hasSize(3));
      dns.hosts(Map.of("other." + Dnsmasq.DOMAIN, addresses(7)));
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(members(lb)).isEmpty());
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lb.port() + "/"))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(503);
      dns.hosts(Map.of(NAME, addresses(5)));
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(members(lb)).containsExactly(url(5)));
    }
  }

  @Test
  void srvRecordsGiveEachMemberItsPortAndWeight() throws Exception {
    try (TestBackend light = TestBackend.start("light");
        TestBackend heavy = TestBackend.start("heavy")) {
      String srv = "_http._tcp.api." + Dnsmasq.DOMAIN;
      dns.close();
      dns = Dnsmasq.start(dir.resolve("srv"), Map.of("node." + Dnsmasq.DOMAIN, List.of("127.0.0.1")),
          new Dnsmasq.Srv(srv, "node." + Dnsmasq.DOMAIN, light.port(), 0, 1),
          new Dnsmasq.Srv(srv, "node." + Dnsmasq.DOMAIN, heavy.port(), 0, 3));
      String yaml = """
          listen: { host: 127.0.0.1, port: 0, workers: 1 }
          admin: { host: 127.0.0.1, port: 0 }
          health_check: { enabled: false }
          backends: [%s]
          upstreams:
            api:
              backends: [ { srv: %s } ]
              balancing: { algorithm: weighted_round_robin }
          routes: [ { path_prefix: /api/, upstream: api } ]
          discovery: { resolvers: ["127.0.0.1:%d"], min_refresh: 1s }
          """.formatted(pods.get(0).url(), srv, dns.port());
      Path file = dir.resolve("srv.yaml");
      Files.writeString(file, yaml);
      try (Lb lb = Lb.of(ConfigLoader.load(file), file)) {
        // Members are ordered by address, then port: the two ephemeral ports come in either order.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(members(lb)).containsExactlyInAnyOrder(
            pods.get(0).url(), light.url(), heavy.url()));
        assertThat(lb.backendJson(heavy.url()).path("weight").asInt()).isEqualTo(3);
        Map<String, Integer> served = new HashMap<>();
        for (int i = 0; i < 40; i++) {
          HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                  URI.create("http://127.0.0.1:" + lb.port() + "/api/x")).timeout(Duration.ofSeconds(10)).build(),
              HttpResponse.BodyHandlers.ofString());
          assertThat(r.statusCode()).isEqualTo(200);
          served.merge(r.body(), 1, Integer::sum);
        }
        assertThat(served).as("weights 1 and 3 from the SRV records").containsOnly(
            Map.entry("light", 10), Map.entry("heavy", 30));
      }
    }
  }

  /** The name's entry under the default upstream in {@code /upstreams}. */
  private JsonNode dnsStatus(Lb lb) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + lb.adminPort() + "/upstreams")).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode entry = new ObjectMapper().readTree(r.body()).get(0).path("dns").get(0);
    assertThat(entry.path("name").asText()).isEqualTo(NAME);
    return entry;
  }
}
