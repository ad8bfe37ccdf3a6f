package dev.lb.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lb.config.KeySource;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.NetUtil;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

class ClientKeysTest {
  private final ClientKeys ipBehindProxies = new ClientKeys(KeySource.CLIENT_ADDRESS,
      CidrSet.parse(List.of("10.0.0.0/8", "2001:db8::/32", "192.0.2.1")));

  private static byte[] ip(String s) {
    return NetUtil.createByteArrayFromIpAddressString(s);
  }

  /** Netty's headers as the key reads them, as the rate-limit handler hands them over. */
  private static String keyOf(ClientKeys keys, byte[] peer, String peerKey, HttpHeaders headers) {
    return keys.keyOf(peer, peerKey, new ClientKeys.Headers() {
      @Override
      public @Nullable String get(String name) {
        return headers.get(name);
      }

      @Override
      public List<String> getAll(String name) {
        return headers.getAll(name);
      }
    });
  }

  private static HttpHeaders xff(String... values) {
    HttpHeaders h = new DefaultHttpHeaders();
    for (String v : values) {
      h.add("X-Forwarded-For", v);
    }
    return h;
  }

  @Test
  void aSpoofedForwardedForFromAnUntrustedPeerIsIgnored() {
    assertThat(keyOf(ipBehindProxies, ip("203.0.113.9"), "203.0.113.9", xff("1.1.1.1"))).isEqualTo("203.0.113.9");
    assertThat(ipBehindProxies.perRequest(ip("203.0.113.9"))).isFalse();
  }

  @Test
  void behindATrustedProxyTheRightmostUntrustedHopIsTheClient() {
    assertThat(ipBehindProxies.perRequest(ip("10.1.2.3"))).isTrue();
    assertThat(keyOf(ipBehindProxies, ip("10.1.2.3"), "10.1.2.3", xff("6.6.6.6, 198.51.100.4, 10.9.9.9")))
        .as("the spoofed left-most hop is ignored").isEqualTo("198.51.100.4");
    assertThat(keyOf(ipBehindProxies, ip("10.1.2.3"), "10.1.2.3", xff("6.6.6.6", "198.51.100.4", "192.0.2.1")))
        .as("several headers read as one list").isEqualTo("198.51.100.4");
  }

  @Test
  void whenEveryHopIsTrustedTheLeftmostIsTheClient() {
    assertThat(keyOf(ipBehindProxies, ip("10.1.2.3"), "10.1.2.3", xff("10.0.0.5, 10.0.0.6"))).isEqualTo("10.0.0.5");
  }

  @Test
  void withoutAUsableHeaderTheTrustedPeerIsTheClient() {
    assertThat(keyOf(ipBehindProxies, ip("10.1.2.3"), "10.1.2.3", new DefaultHttpHeaders())).isEqualTo("10.1.2.3");
    assertThat(keyOf(ipBehindProxies, ip("10.1.2.3"), "10.1.2.3", xff("not-an-ip, 198.51.100.4")))
        .isEqualTo("198.51.100.4");
    assertThat(keyOf(ipBehindProxies, ip("10.1.2.3"), "10.1.2.3", xff("198.51.100.4, garbage")))
        .as("an unparsable right-most hop: the peer").isEqualTo("10.1.2.3");
  }

  @Test
  void ipv6PeersAndHopsAreCanonical() {
    assertThat(keyOf(ipBehindProxies, ip("2001:db8::1"), "2001:db8::1",
        xff("2001:0db8:0:0:0:0:0:99, 2001:DB8:1::7"))).isEqualTo("2001:db8::99");
    assertThat(keyOf(ipBehindProxies, ip("2001:db8::1"), "2001:db8::1", xff("[2a00::1]:443")))
        .isEqualTo("2a00::1");
    assertThat(keyOf(ipBehindProxies, ip("2001:db8::1"), "2001:db8::1", xff("::ffff:198.51.100.4")))
        .as("IPv4-mapped as IPv4").isEqualTo("198.51.100.4");
    assertThat(keyOf(ipBehindProxies, ip("2001:db8::1"), "2001:db8::1", xff("198.51.100.4:8080")))
        .isEqualTo("198.51.100.4");
  }

  @Test
  void aHeaderKeyIsUsedWhenPresentElseTheAddress() {
    ClientKeys byKey = new ClientKeys(new KeySource("X-API-Key"), CidrSet.EMPTY);
    HttpHeaders h = new DefaultHttpHeaders().add("x-api-key", "key-123");
    assertThat(keyOf(byKey, ip("203.0.113.9"), "203.0.113.9", h)).isEqualTo("key-123");
    assertThat(keyOf(byKey, ip("203.0.113.9"), "203.0.113.9", new DefaultHttpHeaders())).isEqualTo("203.0.113.9");
    assertThat(keyOf(byKey, ip("203.0.113.9"), "203.0.113.9", new DefaultHttpHeaders().add("X-API-Key", "")))
        .isEqualTo("203.0.113.9");
    assertThat(byKey.perRequest(ip("203.0.113.9"))).isTrue();
  }

  @Test
  void cidrsMatchIpv4AndIpv6NetworksOnAnyPrefix() {
    CidrSet set = CidrSet.parse(List.of("192.168.0.0/17", "fd00::/8", "203.0.113.7", "0.0.0.0/0"));
    assertThat(CidrSet.parse(List.of("192.168.0.0/17")).contains(ip("192.168.127.255"))).isTrue();
    assertThat(CidrSet.parse(List.of("192.168.0.0/17")).contains(ip("192.168.128.0"))).isFalse();
    assertThat(CidrSet.parse(List.of("fd00::/8")).contains(ip("fdff::1"))).isTrue();
    assertThat(CidrSet.parse(List.of("fd00::/8")).contains(ip("fe00::1"))).isFalse();
    assertThat(CidrSet.parse(List.of("203.0.113.7")).contains(ip("::ffff:203.0.113.7"))).isTrue();
    assertThat(set.contains(ip("8.8.8.8"))).isTrue();
    assertThat(CidrSet.parse(List.of("10.0.0.0/8")).contains(ip("::1"))).isFalse();
    assertThatThrownBy(() -> CidrSet.parse(List.of("10.0.0.0/33"))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> CidrSet.parse(List.of("example.com"))).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void clientIdsOfAddressesAreCanonical() {
    assertThat(ClientIds.normalize("0:0:0:0:0:0:0:1")).isEqualTo("::1");
    assertThat(ClientIds.normalize("::ffff:10.0.0.7")).isEqualTo("10.0.0.7");
    assertThat(ClientIds.normalize("user-1")).isEqualTo("user-1");
    assertThat(ClientIds.problem("")).isNotNull();
    assertThat(ClientIds.problem("a\u0001")).isNotNull();
    assertThat(ClientIds.problem("x".repeat(513))).isNotNull();
    assertThat(ClientIds.problem("user 1")).isNull();
    assertThat(ClientIds.problem(" user")).isNotNull();
    assertThat(ClientIds.problem("user ")).isNotNull();
    assertThat(ClientIds.problem(" ")).isNotNull();
  }
}
