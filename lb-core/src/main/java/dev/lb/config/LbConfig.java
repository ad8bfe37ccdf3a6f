package dev.lb.config;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * The whole configuration of one balancer, as validated by {@link ConfigLoader}. Every section is non-null.
 *
 * <p>The top-level {@code backends} (given by URL) and {@code dnsBackends} (found in DNS), with {@code balancing} and
 * {@code healthCheck}, make the upstream named {@value UpstreamConfig#DEFAULT}; {@code upstreams} are the named ones,
 * and {@code routes} choose among them.
 */
public record LbConfig(
    ListenConfig listen,
    AdminConfig admin,
    List<BackendConfig> backends,
    BalancingConfig balancing,
    HealthCheckConfig healthCheck,
    ProxyConfig proxy,
    RateLimitConfig rateLimit,
    StoreConfig store,
    ShutdownConfig shutdown,
    LoggingConfig logging,
    List<DnsBackendConfig> dnsBackends,
    List<UpstreamConfig> upstreams,
    List<RouteConfig> routes,
    DiscoveryConfig discovery,
    ConfigFileConfig configFile) {

  public LbConfig {
    requireNonNull(listen, "listen");
    requireNonNull(admin, "admin");
    backends = List.copyOf(backends);
    dnsBackends = List.copyOf(dnsBackends);
    upstreams = List.copyOf(upstreams);
    routes = List.copyOf(routes);
    requireNonNull(discovery, "discovery");
    requireNonNull(configFile, "configFile");
    requireNonNull(balancing, "balancing");
    requireNonNull(healthCheck, "healthCheck");
    requireNonNull(proxy, "proxy");
    requireNonNull(rateLimit, "rateLimit");
    requireNonNull(store, "store");
    requireNonNull(shutdown, "shutdown");
    requireNonNull(logging, "logging");
  }

  /** A configuration of one upstream, the top-level backends, without routes. */
  public LbConfig(ListenConfig listen, AdminConfig admin, List<BackendConfig> backends, BalancingConfig balancing,
      HealthCheckConfig healthCheck, ProxyConfig proxy, RateLimitConfig rateLimit, StoreConfig store,
      ShutdownConfig shutdown, LoggingConfig logging) {
    this(listen, admin, backends, balancing, healthCheck, proxy, rateLimit, store, shutdown, logging, List.of(),
        List.of(), List.of(), DiscoveryConfig.defaults(), ConfigFileConfig.defaults());
  }

  /**
   * Every upstream: the default one first (when the top-level {@code backends} name any), then the named ones in
   * configuration order.
   */
  public List<UpstreamConfig> allUpstreams() {
    if (backends.isEmpty() && dnsBackends.isEmpty()) {
      return upstreams;
    }
    List<UpstreamConfig> all = new java.util.ArrayList<>(upstreams.size() + 1);
    all.add(new UpstreamConfig(UpstreamConfig.DEFAULT, backends, dnsBackends, balancing, healthCheck, null));
    all.addAll(upstreams);
    return List.copyOf(all);
  }

  /** Defaults for every section, with the given backends. */
  public static LbConfig withBackends(List<BackendConfig> backends) {
    return new LbConfig(
        ListenConfig.defaults(),
        AdminConfig.defaults(),
        backends,
        BalancingConfig.defaults(),
        HealthCheckConfig.defaults(),
        ProxyConfig.defaults(),
        RateLimitConfig.defaults(),
        StoreConfig.defaults(),
        ShutdownConfig.defaults(),
        LoggingConfig.defaults());
  }

  public LbConfig withListen(ListenConfig value) {
    return new LbConfig(value, admin, backends, balancing, healthCheck, proxy, rateLimit, store, shutdown, logging,
        dnsBackends, upstreams, routes, discovery, configFile);
  }

  public LbConfig withAdmin(AdminConfig value) {
    return new LbConfig(listen, value, backends, balancing, healthCheck, proxy, rateLimit, store, shutdown, logging,
        dnsBackends, upstreams, routes, discovery, configFile);
  }

  public LbConfig withProxy(ProxyConfig value) {
    return new LbConfig(listen, admin, backends, balancing, healthCheck, value, rateLimit, store, shutdown, logging,
        dnsBackends, upstreams, routes, discovery, configFile);
  }

  public LbConfig withShutdown(ShutdownConfig value) {
    return new LbConfig(listen, admin, backends, balancing, healthCheck, proxy, rateLimit, store, value, logging,
        dnsBackends, upstreams, routes, discovery, configFile);
  }

  public LbConfig withLogging(LoggingConfig value) {
    return new LbConfig(listen, admin, backends, balancing, healthCheck, proxy, rateLimit, store, shutdown, value,
        dnsBackends, upstreams, routes, discovery, configFile);
  }

  public LbConfig withHealthCheck(HealthCheckConfig value) {
    return new LbConfig(listen, admin, backends, balancing, value, proxy, rateLimit, store, shutdown, logging,
        dnsBackends, upstreams, routes, discovery, configFile);
  }

  public LbConfig withConfigFile(ConfigFileConfig value) {
    return new LbConfig(listen, admin, backends, balancing, healthCheck, proxy, rateLimit, store, shutdown, logging,
        dnsBackends, upstreams, routes, discovery, value);
  }

  /** This configuration with named upstreams, routes and discovery settings. */
  public LbConfig withUpstreams(List<UpstreamConfig> named, List<RouteConfig> routeList, DiscoveryConfig settings) {
    return new LbConfig(listen, admin, backends, balancing, healthCheck, proxy, rateLimit, store, shutdown, logging,
        dnsBackends, named, routeList, settings, configFile);
  }
}
