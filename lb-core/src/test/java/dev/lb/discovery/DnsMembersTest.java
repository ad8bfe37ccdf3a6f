package dev.lb.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The value types of DNS discovery: members, targets, settings. */
class DnsMembersTest {

  @Test
  void membersHaveCanonicalAddressesAndUrls() {
    assertThat(new Member("FD00:0:0::1", 8080, 1)).isEqualTo(new Member("fd00::1", 8080, 1));
    assertThat(new Member("fd00:0::1", 8080, 1).url()).isEqualTo("http://[fd00::1]:8080");
    assertThat(new Member("10.0.0.5", 80, 1).url()).isEqualTo("http://10.0.0.5:80");
    assertThat(new Member("::1", 443, 1).hostPort()).isEqualTo("[::1]:443");
  }

  @Test
  void membersRefuseWhatIsNoAddressPortOrWeight() {
    assertThatThrownBy(() -> new Member("api.example", 80, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Member("[::1]", 80, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Member("fe80::1%eth0", 80, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Member("10.0.0.1", 0, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Member("10.0.0.1", 80, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Member("10.0.0.1", 80, 257)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void membersSortIpv4FirstThenByAddressAndPort() {
    List<Member> sorted = Stream.of(
            new Member("fd00::1", 80, 1), new Member("10.0.0.10", 80, 1), new Member("10.0.0.9", 81, 1),
            new Member("10.0.0.9", 80, 1), new Member("::1", 80, 1))
        .sorted().toList();
    assertThat(sorted).extracting(Member::hostPort)
        .containsExactly("10.0.0.9:80", "10.0.0.9:81", "10.0.0.10:80", "[::1]:80", "[fd00::1]:80");
  }

  @Test
  void srvWeightsAreClamped() {
    assertThat(Member.clampWeight(0)).isEqualTo(1);
    assertThat(Member.clampWeight(100)).isEqualTo(100);
    assertThat(Member.clampWeight(65535)).isEqualTo(Member.MAX_WEIGHT);
  }

  @Test
  void targetNamesAreLowerCaseWithoutTheTrailingDot() {
    assertThat(new DnsTarget.Address("API-hl.Prod.svc.cluster.local.", 8080, 1).name())
        .isEqualTo("api-hl.prod.svc.cluster.local");
    assertThat(new DnsTarget.Srv("_http._tcp.Web.").name()).isEqualTo("_http._tcp.web");
    assertThatThrownBy(() -> new DnsTarget.Address("a..b", 80, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new DnsTarget.Address("a.b", 0, 1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void settingsKeepTheRefreshBoundsInOrder() {
    DiscoverySettings d = DiscoverySettings.defaults();
    assertThat(d.resolvers()).isEmpty();
    assertThat(List.of(d.minRefresh(), d.maxRefresh(), d.nxHold(), d.queryTimeout()))
        .containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(2));
    InetSocketAddress server = new InetSocketAddress("127.0.0.1", 5353);
    assertThat(d.withResolvers(List.of(server)).resolvers()).containsExactly(server);
    assertThatThrownBy(() -> new DiscoverySettings(List.of(), Duration.ofSeconds(5), Duration.ofSeconds(1),
        Duration.ZERO, Duration.ofSeconds(1))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new DiscoverySettings(List.of(), Duration.ZERO, Duration.ofSeconds(1),
        Duration.ZERO, Duration.ofSeconds(1))).isInstanceOf(IllegalArgumentException.class);
  }
}
