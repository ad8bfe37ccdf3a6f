package dev.lb.discovery;

import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddressStream;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.NoopAuthoritativeDnsServerCache;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.NoopDnsCnameCache;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Watches names in DNS and reports their members: the addresses of a name's A and AAAA records on a given port
 * ({@link DnsTarget.Address}), or the targets of its SRV records with their ports and weights
 * ({@link DnsTarget.Srv}). Built for Kubernetes headless Services, whose names list their ready pods.
 *
 * <p>Each name is resolved again after the smallest TTL of its answer, kept within
 * {@link DiscoverySettings#minRefresh()} and {@link DiscoverySettings#maxRefresh()}. A failure (timeout, network
 * error, SERVFAIL, REFUSED) keeps the last members and is retried after the minimum refresh, backing off up to the
 * maximum; a name that answers NXDOMAIN or no records keeps its last members for {@link DiscoverySettings#nxHold()},
 * then has none. Each change of a member set is logged at INFO, the start of each run of failures or negative answers
 * at WARN (logger {@code dev.lb.discovery.DnsDiscovery}).
 *
 * <p>Everything runs on the one event loop given: Netty's {@link DnsNameResolver} (UDP, TCP when an answer is
 * truncated) with its caches off, so that every refresh asks a name server, and raw queries, so that TTLs and response
 * codes are seen. Names are asked as given, absolute: no search domain is appended.
 *
 * <p>Make it off the event loop: without configured resolvers it reads {@code /etc/resolv.conf} (once, here; changes
 * to the file later are not seen), and Netty's resolver reads it when first loaded.
 */
public final class DnsDiscovery implements AutoCloseable {
  private final EventLoop loop;
  private final DiscoverySettings settings;
  private final List<InetSocketAddress> resolvers;
  private final DnsNameResolver resolver;
  private final DnsLookup lookup;
  private final Set<DnsWatch> watches = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  /**
   * @param loop the event loop that sends the queries, keeps the timers and calls the listeners
   * @param udp the datagram channel type of the loop's transport ({@code Transport.datagramChannel()})
   * @param tcp the socket channel type of the loop's transport ({@code Transport.socketChannel()}), for answers too
   *     large for UDP
   */
  public DnsDiscovery(EventLoop loop, Class<? extends DatagramChannel> udp, Class<? extends SocketChannel> tcp,
      DiscoverySettings settings) {
    this.loop = loop;
    this.settings = settings;
    this.resolvers = settings.resolvers().isEmpty() ? systemResolvers() : settings.resolvers();
    this.resolver = new DnsNameResolverBuilder(loop)
        .datagramChannelType(udp)
        .socketChannelType(tcp)
        .nameServerProvider(new SequentialDnsServerAddressStreamProvider(resolvers))
        .queryTimeoutMillis(settings.queryTimeout().toMillis())
        .resolveCache(NoopDnsCache.INSTANCE)
        .cnameCache(NoopDnsCnameCache.INSTANCE)
        .authoritativeDnsServerCache(NoopAuthoritativeDnsServerCache.INSTANCE)
        .searchDomains(List.of())
        .build();
    this.lookup = new DnsLookup(resolver, loop);
  }

  /**
   * Starts watching a name: it is resolved at once (on the loop) and then again as its TTL says. The listener is
   * called on the loop with the whole new member set, sorted, after the first answer (even if that names no member)
   * and then whenever the set changes (an address, port or weight); not while resolving fails before any answer.
   *
   * @throws IllegalStateException when this is closed
   */
  public Watch watch(DnsTarget target, Consumer<List<Member>> listener) {
    if (closed) {
      throw new IllegalStateException("closed");
    }
    DnsWatch watch = new DnsWatch(target, lookup, loop, settings, listener, watches::remove);
    watches.add(watch);
    watch.start();
    return watch;
  }

  /** The name servers asked, in turn: the configured ones, else those of {@code /etc/resolv.conf}. */
  public List<InetSocketAddress> resolvers() {
    return resolvers;
  }

  /** Stops every watch and closes the resolver's sockets. Idempotent. */
  @Override
  public void close() {
    closed = true;
    for (DnsWatch watch : List.copyOf(watches)) {
      watch.close();
    }
    resolver.close();
  }

  private static List<InetSocketAddress> systemResolvers() {
    DnsServerAddressStream stream = DnsServerAddressStreamProviders.platformDefault().nameServerAddressStream("");
    List<InetSocketAddress> servers = new ArrayList<>();
    for (int i = 0; i < stream.size(); i++) {
      servers.add(stream.next());
    }
    return List.copyOf(servers);
  }
}
