package dev.lb.upstream;

import static java.util.Objects.requireNonNull;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendHealth;
import dev.lb.backend.HealthPolicy;
import dev.lb.balance.LoadBalancers;
import dev.lb.config.BackendConfig;
import dev.lb.config.DnsBackendConfig;
import dev.lb.config.LbConfig;
import dev.lb.config.RouteConfig;
import dev.lb.config.UpstreamConfig;
import dev.lb.health.HealthMonitor;
import dev.lb.health.probe.ActiveHealthChecker;
import dev.lb.metrics.ProxyMetrics;
import dev.lb.pool.BackendPools;
import dev.lb.route.RouteSpec;
import dev.lb.route.RouteTable;
import dev.lb.transport.Transport;
import io.netty.channel.EventLoopGroup;
import io.netty.resolver.AddressResolverGroup;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Every upstream of the running configuration: for each, its backends (given by URL and found in DNS), the health
 * monitor that publishes its routing snapshot, its prober; and the route table over them, published to the request
 * path through {@code publish}. A reload ({@link #apply}) and a DNS answer change membership the same way: backends
 * that stay keep their health, counters and pooled connections; a removed one takes no new requests, its requests
 * in flight finish, its idle pooled connections close; an address found in DNS while health checks are on takes
 * traffic only once its first probe passed. Changes are serialised on this object.
 */
public final class Upstreams implements AutoCloseable {
  private final ProxyMetrics metrics;
  private final BackendPools pools;
  private final Transport transport;
  private final AddressResolverGroup<InetSocketAddress> resolver;
  private final EventLoopGroup healthLoop;
  private final MemberFinder finder;
  private final Consumer<Routes> publish;
  private final Map<String, State> byName = new LinkedHashMap<>();
  private volatile List<Backend> all = List.of();
  private volatile Routes routes;
  private boolean closed;

  /** One upstream's moving parts; guarded by the enclosing {@link Upstreams}. */
  private final class State {
    final Upstream view;
    final HealthMonitor health;
    UpstreamConfig config;
    List<Backend> backends = List.of();
    @Nullable ActiveHealthChecker checker;
    final Map<DnsBackendConfig, MemberFinder.Watch> watches = new LinkedHashMap<>();
    final Map<DnsBackendConfig, List<BackendConfig>> found = new LinkedHashMap<>();

    State(UpstreamConfig config) {
      this.config = config;
      this.health = new HealthMonitor(List.of(), LoadBalancers.create(config.balancing()),
          config.healthCheck().slowStart().toNanos(), healthLoop);
      this.view = new Upstream(config.name(), health.current(), metrics.none(config.name()));
      view.rateLimit(config.rateLimit());
      health.sink(view::routing);
    }
  }

  public Upstreams(LbConfig config, ProxyMetrics metrics, BackendPools pools, Transport transport,
      AddressResolverGroup<InetSocketAddress> resolver, EventLoopGroup healthLoop, MemberFinder finder,
      Consumer<Routes> publish) {
    this.metrics = requireNonNull(metrics, "metrics");
    this.pools = requireNonNull(pools, "pools");
    this.transport = requireNonNull(transport, "transport");
    this.resolver = requireNonNull(resolver, "resolver");
    this.healthLoop = requireNonNull(healthLoop, "healthLoop");
    this.finder = requireNonNull(finder, "finder");
    this.publish = requireNonNull(publish, "publish");
    this.routes = Routes.none();
    apply(config);
  }

  /**
   * Applies a configuration's upstreams and routes (at start and on a reload): upstreams added, removed or changed,
   * the route table rebuilt and published.
   */
  public synchronized void apply(LbConfig next) {
    Map<String, State> before = new LinkedHashMap<>(byName);
    byName.clear();
    for (UpstreamConfig uc : next.allUpstreams()) {
      State s = before.remove(uc.name());
      if (s == null) {
        s = new State(uc);
      }
      byName.put(uc.name(), s);
      configure(s, uc);
    }
    for (State gone : before.values()) {
      retire(gone);
    }
    publishRoutes(next.routes());
    refreshAll();
  }

  /** Brings one upstream to its configuration: balancer, limit, watched names, members, prober. */
  private void configure(State s, UpstreamConfig next) {
    UpstreamConfig previous = s.config;
    s.config = next;
    s.view.rateLimit(next.rateLimit());
    for (var it = s.watches.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      if (!next.dns().contains(e.getKey())) {
        e.getValue().close();
        s.found.remove(e.getKey());
        it.remove();
      }
    }
    boolean sameBalancing = previous.balancing().equals(next.balancing());
    List<Backend> removed = members(s, sameBalancing ? s.health.balancer() : LoadBalancers.create(next.balancing()));
    boolean restart = s.checker == null || !removed.isEmpty() || !previous.healthCheck().equals(next.healthCheck())
        || !previous.backends().equals(next.backends());
    if (restart) {
      ActiveHealthChecker old = s.checker;
      s.checker = next.healthCheck().enabled()
          ? new ActiveHealthChecker(s.backends, next.healthCheck(), transport, resolver, healthLoop)
          : null;
      if (old != null) {
        old.close();
      }
      if (s.checker != null) {
        s.checker.start();
      }
    }
    for (DnsBackendConfig target : next.dns()) {
      if (!s.watches.containsKey(target)) {
        s.watches.put(target, finder.watch(target, members -> found(s, target, members)));
      }
    }
  }

  /** A DNS answer changed a name's members. */
  private synchronized void found(State s, DnsBackendConfig target, List<BackendConfig> members) {
    if (closed || byName.get(s.config.name()) != s || !s.config.dns().contains(target)) {
      return;
    }
    s.found.put(target, List.copyOf(members));
    List<Backend> before = s.backends;
    members(s, s.health.balancer());
    ActiveHealthChecker checker = s.checker;
    if (checker != null) {
      for (Backend b : s.backends) {
        if (!before.contains(b)) {
          checker.add(b);
        }
      }
      for (Backend b : before) {
        if (!s.backends.contains(b)) {
          checker.remove(b);
        }
      }
    }
    refreshAll();
  }

  /**
   * Sets an upstream's members to its configured backends and those found so far: those that stay keep their state,
   * new ones are made (one found in DNS waits for its first probe), removed ones are evicted.
   *
   * @return the backends removed
   */
  private List<Backend> members(State s, dev.lb.balance.LoadBalancer balancer) {
    UpstreamConfig uc = s.config;
    HealthPolicy policy = HealthPolicy.from(uc.healthCheck());
    Map<String, Backend> existing = new LinkedHashMap<>();
    for (Backend b : s.backends) {
      existing.put(b.url(), b);
    }
    Map<String, BackendConfig> wanted = new LinkedHashMap<>();
    for (BackendConfig bc : uc.backends()) {
      wanted.put(bc.url(), bc);
    }
    int configured = wanted.size();
    for (DnsBackendConfig target : uc.dns()) {
      for (BackendConfig bc : s.found.getOrDefault(target, List.of())) {
        wanted.putIfAbsent(bc.url(), bc);
      }
    }
    List<Backend> list = new ArrayList<>(wanted.size());
    int i = 0;
    for (BackendConfig bc : wanted.values()) {
      boolean discovered = i++ >= configured;
      Backend b = existing.remove(bc.url());
      if (b == null) {
        BackendHealth health = new BackendHealth(policy, Clock.systemUTC(), System::nanoTime);
        if (discovered) {
          health.awaitFirstProbe();
        }
        b = new Backend(bc, health, uc.name());
        metrics.bind(b);
      } else {
        b.reweight(bc.weight());
        b.maxConnections(bc.maxConnections());
        b.name(bc.name());
        b.health().policy(policy);
        if (!java.util.Objects.equals(b.tls(), bc.tls())) {
          // New TLS settings, or files whose contents changed: new connections only; idle ones close.
          b.tls(bc.tls());
          pools.evict(b);
        }
      }
      list.add(b);
    }
    s.health.update(list, balancer, uc.healthCheck().slowStart().toNanos());
    s.backends = List.copyOf(list);
    List<Backend> removed = new ArrayList<>(existing.values());
    for (Backend gone : removed) {
      pools.evict(gone);
      metrics.unbind(gone);
    }
    return removed;
  }

  /** An upstream left the configuration: its names are no longer watched, its backends evicted. */
  private void retire(State s) {
    stop(s);
    s.health.update(List.of(), s.health.balancer(), 0);
    for (Backend gone : s.backends) {
      pools.evict(gone);
      metrics.unbind(gone);
    }
    s.backends = List.of();
    metrics.retire(s.config.name());
  }

  private void publishRoutes(List<RouteConfig> configured) {
    List<Upstream> views = new ArrayList<>();
    byName.values().forEach(s -> views.add(s.view));
    State fallback = byName.get(UpstreamConfig.DEFAULT);
    Routes next;
    if (configured.isEmpty() && fallback != null) {
      next = Routes.single(fallback.view);
    } else {
      List<RouteSpec> specs = new ArrayList<>(configured.size());
      for (RouteConfig r : configured) {
        specs.add(new RouteSpec(r.host(), r.pathPrefix(), r.upstream(), r.stripPrefix()));
      }
      next = Routes.of(RouteTable.build(specs, name -> {
        State s = byName.get(name);
        return s == null ? null : s.view;
      }, fallback == null ? null : fallback.view), views);
    }
    routes = next;
    publish.accept(next);
  }

  private void refreshAll() {
    List<Backend> list = new ArrayList<>();
    byName.values().forEach(s -> list.addAll(s.backends));
    all = List.copyOf(list);
  }

  /** Every backend of every upstream, upstream by upstream in configuration order. */
  public List<Backend> backends() {
    return all;
  }

  /** The routes last published. */
  public Routes routes() {
    return routes;
  }

  /** The upstreams' names in configuration order (the default first). */
  public synchronized List<String> names() {
    return List.copyOf(byName.keySet());
  }

  /** The backends of one upstream; empty for an unknown name. */
  public synchronized List<Backend> backends(String upstream) {
    State s = byName.get(upstream);
    return s == null ? List.of() : s.backends;
  }

  /** The upstream's health monitor (its published snapshot, its balancer); null for an unknown name. */
  public synchronized @Nullable HealthMonitor health(String upstream) {
    State s = byName.get(upstream);
    return s == null ? null : s.health;
  }

  /** Each watched DNS name of an upstream with what the admin API shows of it, in configuration order. */
  public synchronized Map<String, Map<String, Object>> discovery(String upstream) {
    State s = byName.get(upstream);
    Map<String, Map<String, Object>> out = new LinkedHashMap<>();
    if (s != null) {
      s.watches.forEach((target, watch) -> out.put(target.describe(), watch.status()));
    }
    return out;
  }

  /** Stops probing and watching; the backends' connections close with their pools. */
  @Override
  public synchronized void close() {
    closed = true;
    byName.values().forEach(this::stop);
  }

  /** Stops watching an upstream's names and probing its backends. */
  private void stop(State s) {
    s.watches.values().forEach(MemberFinder.Watch::close);
    s.watches.clear();
    ActiveHealthChecker checker = s.checker;
    if (checker != null) {
      checker.close();
    }
  }
}
