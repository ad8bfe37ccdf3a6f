package dev.lb.upstream;

import dev.lb.config.BackendConfig;
import dev.lb.config.BackendTlsConfig;
import dev.lb.config.DiscoveryConfig;
import dev.lb.config.DnsBackendConfig;
import dev.lb.discovery.DiscoverySettings;
import dev.lb.discovery.DnsDiscovery;
import dev.lb.discovery.DnsTarget;
import dev.lb.discovery.Member;
import dev.lb.discovery.WatchStatus;
import dev.lb.transport.Transport;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Finds DNS backends' members with a {@link DnsDiscovery} on one event loop (the health loop): each member becomes a
 * backend {@code http://ip:port} (or {@code https://ip:port} with the target's TLS settings) with the target's
 * {@code max_connections}, and its weight (the configured one for {@code dns}, the record's for {@code srv}).
 */
public final class DnsMemberFinder implements MemberFinder, AutoCloseable {
  private final DnsDiscovery discovery;

  /** Made off the event loop: without configured resolvers it reads {@code /etc/resolv.conf}. */
  public DnsMemberFinder(EventLoop loop, Transport transport, DiscoveryConfig config) {
    this.discovery = new DnsDiscovery(loop, transport.datagramChannel(), transport.socketChannel(),
        new DiscoverySettings(config.nameServers(), config.minRefresh(), config.maxRefresh(), config.nxHold(), config.timeout()));
  }

  @Override
  public Watch watch(DnsBackendConfig target, Consumer<List<BackendConfig>> found) {
    DnsTarget dns = target.kind() == DnsBackendConfig.Kind.SRV
        ? new DnsTarget.Srv(target.name())
        : new DnsTarget.Address(target.name(), target.port(), Math.max(1, target.weight()));
    dev.lb.discovery.Watch watch = discovery.watch(dns, members -> found.accept(backends(target, members)));
    return new Watch() {
      @Override
      public Map<String, Object> status() {
        return describe(watch.status());
      }

      @Override
      public void close() {
        watch.close();
      }
    };
  }

  private static List<BackendConfig> backends(DnsBackendConfig target, List<Member> members) {
    List<BackendConfig> out = new ArrayList<>(members.size());
    // TLS members are verified against the name looked up (the service's domain for SRV), not their addresses.
    @Nullable BackendTlsConfig tls = target.tls() == null ? null
        : target.tls().withServerName(target.tls().peerName(target.tlsName()));
    for (Member m : members) {
      int weight = target.kind() == DnsBackendConfig.Kind.SRV ? m.weight() : target.weight();
      String url = tls == null ? m.url() : "https://" + m.hostPort();
      out.add(new BackendConfig(url, m.ip(), m.port(), weight, target.maxConnections(), "", tls));
    }
    return out;
  }

  private static Map<String, Object> describe(WatchStatus s) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("name", s.name());
    out.put("type", s.type());
    List<String> members = new ArrayList<>();
    s.members().forEach(m -> members.add(m.hostPort()));
    out.put("addresses", members);
    out.put("last_answer", s.lastAnswer() == null ? null : s.lastAnswer().toString());
    out.put("last_error", s.lastError());
    out.put("last_error_at", s.lastErrorAt() == null ? null : s.lastErrorAt().toString());
    out.put("nx_since", s.nxSince() == null ? null : s.nxSince().toString());
    out.put("next_refresh", s.nextRefresh().toString());
    return out;
  }

  @Override
  public void close() {
    discovery.close();
  }
}
