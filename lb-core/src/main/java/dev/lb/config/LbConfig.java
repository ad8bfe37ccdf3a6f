package dev.lb.config;

import static java.util.Objects.requireNonNull;

import java.util.List;

/** The whole configuration of one balancer, as validated by {@link ConfigLoader}. Every section is non-null. */
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
    LoggingConfig logging) {

  public LbConfig {
    requireNonNull(listen, "listen");
    requireNonNull(admin, "admin");
    backends = List.copyOf(backends);
    requireNonNull(balancing, "balancing");
    requireNonNull(healthCheck, "healthCheck");
    requireNonNull(proxy, "proxy");
    requireNonNull(rateLimit, "rateLimit");
    requireNonNull(store, "store");
    requireNonNull(shutdown, "shutdown");
    requireNonNull(logging, "logging");
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
    return new LbConfig(value, admin, backends, balancing, healthCheck, proxy, rateLimit, store, shutdown, logging);
  }

  public LbConfig withAdmin(AdminConfig value) {
    return new LbConfig(listen, value, backends, balancing, healthCheck, proxy, rateLimit, store, shutdown, logging);
  }

  public LbConfig withProxy(ProxyConfig value) {
    return new LbConfig(listen, admin, backends, balancing, healthCheck, value, rateLimit, store, shutdown, logging);
  }

  public LbConfig withShutdown(ShutdownConfig value) {
    return new LbConfig(listen, admin, backends, balancing, healthCheck, proxy, rateLimit, store, value, logging);
  }

  public LbConfig withLogging(LoggingConfig value) {
    return new LbConfig(listen, admin, backends, balancing, healthCheck, proxy, rateLimit, store, shutdown, value);
  }

  public LbConfig withHealthCheck(HealthCheckConfig value) {
    return new LbConfig(listen, admin, backends, balancing, value, proxy, rateLimit, store, shutdown, logging);
  }
}
