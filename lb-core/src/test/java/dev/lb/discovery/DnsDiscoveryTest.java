package dev.lb.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.lb.testing.Dnsmasq;
import dev.lb.transport.Transport;
import io.netty.channel.EventLoopGroup;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link DnsDiscovery} against a real DNS server, a {@link Dnsmasq} on loopback, on one event loop. */
class DnsDiscoveryTest {
  private static final Duration AWAIT = Duration.ofSeconds(20);
  private static final String API = "api." + Dnsmasq.DOMAIN;

  @TempDir Path dir;

  private final Transport transport = Transport.detect();
  private @Nullable EventLoopGroup group;
  private @Nullable Dnsmasq dns;
  private @Nullable DnsDiscovery discovery;

  /** Every member set a listener was given, in order. */
  private static final class Reports implements Consumer<List<Member>> {
    final Queue<List<Member>> all = new ConcurrentLinkedQueue<>();

    @Override
    public void accept(List<Member> members) {
      all.add(members);
    }

    List<List<Member>> list() {
      return new ArrayList<>(all);
    }

    @Nullable List<Member> last() {
      List<List<Member>> list = list();
      return list.isEmpty() ? null : list.get(list.size() - 1);
    }
  }

  @BeforeEach
  void loop() {
    group = transport.newGroup(1, "dns-test");
  }

  @AfterEach
  void close() throws InterruptedException {
    if (discovery != null) {
      discovery.close();
    }
    if (dns != null) {
      dns.close();
    }
    if (group != null) {
      group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private Dnsmasq dns(Map<String, List<String>> hosts, Dnsmasq.Srv... srv) throws Exception {
    dns = Dnsmasq.start(dir, hosts, srv);
    return dns;
  }

  /** Refresh within 100 ms to 2 s (the TTL of 1 s is kept), NX hold as given, queries time out after 500 ms. */
  private DnsDiscovery discovery(Duration nxHold) {
    return discovery(Duration.ofMillis(100), Duration.ofSeconds(2), nxHold);
  }

  private DnsDiscovery discovery(Duration minRefresh, Duration maxRefresh, Duration nxHold) {
    discovery = new DnsDiscovery(group.next(), transport.datagramChannel(), transport.socketChannel(),
        new DiscoverySettings(List.of(dns.address()), minRefresh, maxRefresh, nxHold, Duration.ofMillis(500)));
    return discovery;
  }

  private static List<Member> members(int port, int weight, String... ips) {
    return java.util.Arrays.stream(ips).map(ip -> new Member(ip, port, weight)).sorted().toList();
  }

  @Test
  void reportsTheAddressesOfTheFirstAnswer() throws Exception {
    dns(Map.of(API, List.of("10.0.0.2", "10.0.0.1"), "other." + Dnsmasq.DOMAIN, List.of("10.9.9.9")));
    Reports reports = new Reports();
    Watch watch = discovery(Duration.ofSeconds(10)).watch(new DnsTarget.Address(API + ".", 8080, 3), reports);

    await().atMost(AWAIT).until(() -> reports.last() != null);
    List<Member> expected = members(8080, 3, "10.0.0.1", "10.0.0.2");
    assertThat(reports.last()).isEqualTo(expected);
    assertThat(expected.get(0).url()).isEqualTo("http://10.0.0.1:8080");
    WatchStatus status = watch.status();
    assertThat(status.name()).isEqualTo(API);
    assertThat(status.type()).isEqualTo("A/AAAA");
    assertThat(status.members()).isEqualTo(expected);
    assertThat(status.lastAnswer()).isNotNull();
    assertThat(status.lastError()).isNull();
    assertThat(status.nxSince()).isNull();
  }

  @Test
  void reportsIpv6AddressesAfterIpv4Ones() throws Exception {
    dns(Map.of(API, List.of("fd00::2", "10.0.0.3", "::1", "FD00:0:0::1")));
    Reports reports = new Reports();
    discovery(Duration.ofSeconds(10)).watch(new DnsTarget.Address(API, 8080, 1), reports);

    await().atMost(AWAIT).until(() -> reports.last() != null);
    assertThat(reports.last()).extracting(Member::url).containsExactly(
        "http://10.0.0.3:8080", "http://[::1]:8080", "http://[fd00::1]:8080", "http://[fd00::2]:8080");
  }

  @Test
  void reportsEachChangedSetOnce() throws Exception {
    Dnsmasq server = dns(Map.of(API, List.of("10.0.0.1", "10.0.0.2", "10.0.0.3")));
    Reports reports = new Reports();
    discovery(Duration.ofSeconds(10)).watch(new DnsTarget.Address(API, 80, 1), reports);
    List<Member> three = members(80, 1, "10.0.0.1", "10.0.0.2", "10.0.0.3");
    List<Member> five = members(80, 1, "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5");
    List<Member> two = members(80, 1, "10.0.0.4", "10.0.0.5");
    await().atMost(AWAIT).until(() -> three.equals(reports.last()));

    server.hosts(Map.of(API, List.of("10.0.0.5", "10.0.0.4", "10.0.0.3", "10.0.0.2", "10.0.0.1")));
    await().atMost(AWAIT).until(() -> five.equals(reports.last()));
    server.hosts(Map.of(API, List.of("10.0.0.4", "10.0.0.5")));
    await().atMost(AWAIT).until(() -> two.equals(reports.last()));

    // Refreshes in between answered the same: no report of theirs.
    assertThat(reports.list()).containsExactly(three, five, two);
  }

  @Test
  void refreshesAfterTheTtlWithinTheBounds() throws Exception {
    Dnsmasq server = dns(Map.of(API, List.of("10.0.0.1"), "slow." + Dnsmasq.DOMAIN, List.of("10.0.0.2"),
        "fast." + Dnsmasq.DOMAIN, List.of("10.0.0.3")));
    DnsDiscovery d = discovery(Duration.ofMillis(100), Duration.ofSeconds(5), Duration.ofSeconds(10));
    Watch ttl = d.watch(new DnsTarget.Address(API, 80, 1), m -> {});
    await().atMost(AWAIT).until(() -> ttl.status().lastAnswer() != null);
    assertThat(untilNext(ttl.status())).isEqualTo(Duration.ofSeconds(Dnsmasq.TTL_SECONDS));
    // Each refresh asks the server again (A and AAAA): no cache in between.
    await().atMost(AWAIT).until(() -> server.queries(API) >= 6);

    DnsDiscovery raised = new DnsDiscovery(group.next(), transport.datagramChannel(), transport.socketChannel(),
        new DiscoverySettings(List.of(server.address()), Duration.ofSeconds(3), Duration.ofSeconds(5),
            Duration.ofSeconds(10), Duration.ofMillis(500)));
    DnsDiscovery lowered = new DnsDiscovery(group.next(), transport.datagramChannel(), transport.socketChannel(),
        new DiscoverySettings(List.of(server.address()), Duration.ofMillis(100), Duration.ofMillis(300),
            Duration.ofSeconds(10), Duration.ofMillis(500)));
    try {
      Watch slow = raised.watch(new DnsTarget.Address("slow." + Dnsmasq.DOMAIN, 80, 1), m -> {});
      Watch fast = lowered.watch(new DnsTarget.Address("fast." + Dnsmasq.DOMAIN, 80, 1), m -> {});
      await().atMost(AWAIT).until(() -> slow.status().lastAnswer() != null && fast.status().lastAnswer() != null);
      assertThat(untilNext(slow.status())).isEqualTo(Duration.ofSeconds(3));
      assertThat(untilNext(fast.status())).isEqualTo(Duration.ofMillis(300));
    } finally {
      raised.close();
      lowered.close();
    }
  }

  private static Duration untilNext(WatchStatus status) {
    return Duration.between(status.lastAnswer(), status.nextRefresh());
  }

  @Test
  void keepsTheMembersThroughNxdomainShorterThanTheHold() throws Exception {
    Dnsmasq server = dns(Map.of(API, List.of("10.0.0.1", "10.0.0.2")));
    Reports reports = new Reports();
    Watch watch = discovery(Duration.ofSeconds(60)).watch(new DnsTarget.Address(API, 80, 1), reports);
    await().atMost(AWAIT).until(() -> reports.last() != null);

    server.hosts(Map.of("other." + Dnsmasq.DOMAIN, List.of("10.0.0.9")));
    await().atMost(AWAIT).until(() -> watch.status().nxSince() != null);
    assertThat(watch.status().lastError()).isEqualTo("NXDOMAIN");
    assertThat(watch.status().members()).isEqualTo(members(80, 1, "10.0.0.1", "10.0.0.2"));

    server.hosts(Map.of(API, List.of("10.0.0.1", "10.0.0.2")));
    await().atMost(AWAIT).until(() -> watch.status().nxSince() == null);
    assertThat(reports.list()).containsExactly(members(80, 1, "10.0.0.1", "10.0.0.2"));
  }

  @Test
  void dropsTheMembersAfterNxdomainForTheHold() throws Exception {
    Dnsmasq server = dns(Map.of(API, List.of("10.0.0.1")));
    Reports reports = new Reports();
    Watch watch = discovery(Duration.ofSeconds(1)).watch(new DnsTarget.Address(API, 80, 1), reports);
    await().atMost(AWAIT).until(() -> reports.last() != null);

    server.hosts(Map.of());
    await().atMost(AWAIT).until(() -> List.of().equals(reports.last()));
    assertThat(watch.status().members()).isEmpty();
    assertThat(watch.status().nxSince()).isNotNull();

    server.hosts(Map.of(API, List.of("10.0.0.7")));
    await().atMost(AWAIT).until(() -> members(80, 1, "10.0.0.7").equals(reports.last()));
    assertThat(reports.list()).containsExactly(members(80, 1, "10.0.0.1"), List.of(), members(80, 1, "10.0.0.7"));
  }

  @Test
  void aNameWithoutAddressesCountsAsNxdomain() throws Exception {
    dns(Map.of(API, List.of("10.0.0.1")), new Dnsmasq.Srv("_http._tcp.api." + Dnsmasq.DOMAIN, API, 80, 0, 1));
    Reports reports = new Reports();
    // The SRV name exists, with no A or AAAA records: an empty NOERROR answer, nothing to keep.
    Watch watch = discovery(Duration.ofSeconds(60))
        .watch(new DnsTarget.Address("_http._tcp.api." + Dnsmasq.DOMAIN, 80, 1), reports);

    await().atMost(AWAIT).until(() -> reports.last() != null);
    assertThat(reports.last()).isEmpty();
    assertThat(watch.status().lastError()).isEqualTo("no records");
  }

  @Test
  void keepsTheMembersWhileTheServerIsGone() throws Exception {
    Dnsmasq server = dns(Map.of(API, List.of("10.0.0.1", "10.0.0.2")));
    Reports reports = new Reports();
    Watch watch = discovery(Duration.ofSeconds(1)).watch(new DnsTarget.Address(API, 80, 1), reports);
    await().atMost(AWAIT).until(() -> reports.last() != null);

    server.stop();
    await().atMost(AWAIT).until(() -> "timeout".equals(watch.status().lastError()));
    // Longer than the NX hold: a failure is no negative answer.
    await().atMost(AWAIT).until(() -> watch.status().lastErrorAt().isAfter(watch.status().lastAnswer().plusSeconds(2)));
    assertThat(watch.status().members()).isEqualTo(members(80, 1, "10.0.0.1", "10.0.0.2"));
    assertThat(watch.status().nxSince()).isNull();

    Instant restarted = Instant.now();
    server.restart();
    await().atMost(AWAIT).until(() -> watch.status().lastAnswer().isAfter(restarted));
    assertThat(reports.list()).containsExactly(members(80, 1, "10.0.0.1", "10.0.0.2"));
  }

  @Test
  void aFirstResolutionThatFailsReportsNothing() throws Exception {
    dns(Map.of());
    Reports reports = new Reports();
    Watch watch = discovery(Duration.ofSeconds(1))
        .watch(new DnsTarget.Address("api." + Dnsmasq.REFUSING_DOMAIN, 80, 1), reports);

    await().atMost(AWAIT).until(() -> "REFUSED".equals(watch.status().lastError()));
    assertThat(watch.status().lastAnswer()).isNull();
    assertThat(watch.status().members()).isEmpty();
    assertThat(reports.list()).isEmpty();
  }

  @Test
  void resolvesSrvTargetsWithTheirPortsAndWeights() throws Exception {
    String web = "_http._tcp.web." + Dnsmasq.DOMAIN;
    Dnsmasq server = dns(
        Map.of("a." + Dnsmasq.DOMAIN, List.of("10.0.1.1"), "b." + Dnsmasq.DOMAIN, List.of("10.0.2.1", "fd00::21")),
        new Dnsmasq.Srv(web, "a." + Dnsmasq.DOMAIN, 8080, 0, 0),
        new Dnsmasq.Srv(web, "b." + Dnsmasq.DOMAIN, 9090, 0, 300),
        new Dnsmasq.Srv(web, "gone." + Dnsmasq.DOMAIN, 7070, 0, 5));
    Reports reports = new Reports();
    Watch watch = discovery(Duration.ofSeconds(10)).watch(new DnsTarget.Srv(web), reports);

    // Weight 0 counts as 1, 300 as 256; a target without addresses adds no member.
    List<Member> first = List.of(new Member("10.0.1.1", 8080, 1), new Member("10.0.2.1", 9090, 256),
        new Member("fd00::21", 9090, 256));
    await().atMost(AWAIT).until(() -> first.equals(reports.last()));
    assertThat(watch.status().type()).isEqualTo("SRV");

    server.srv(new Dnsmasq.Srv(web, "a." + Dnsmasq.DOMAIN, 8081, 0, 7));
    await().atMost(AWAIT).until(() -> List.of(new Member("10.0.1.1", 8081, 7)).equals(reports.last()));
    assertThat(reports.list()).hasSize(2);
  }

  @Test
  void stopsRefreshingWhenClosed() throws Exception {
    String other = "other." + Dnsmasq.DOMAIN;
    Dnsmasq server = dns(Map.of(API, List.of("10.0.0.1"), other, List.of("10.0.0.2")));
    DnsDiscovery d = discovery(Duration.ofSeconds(10));
    Reports reports = new Reports();
    Watch watch = d.watch(new DnsTarget.Address(API, 80, 1), reports);
    await().atMost(AWAIT).until(() -> reports.last() != null);
    watch.close();
    int asked = server.queries(API);

    // Another name's refreshes tell the time: three more of them (three TTLs) and the closed one asked no more than
    // the query in flight when it was closed.
    Watch clock = d.watch(new DnsTarget.Address(other, 80, 1), m -> {});
    await().atMost(AWAIT).until(() -> server.queries(other) >= 6);
    assertThat(server.queries(API)).isLessThanOrEqualTo(asked + 2);
    assertThat(reports.list()).hasSize(1);

    d.close();
    assertThat(clock.status().members()).isEqualTo(members(80, 1, "10.0.0.2"));
    assertThatThrownBy(() -> d.watch(new DnsTarget.Address(other, 80, 1), m -> {}))
        .isInstanceOf(IllegalStateException.class);
  }
}
