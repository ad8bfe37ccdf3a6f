package dev.lb.config;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One named group of backends with its own balancing and health checks, chosen for a request by the {@link
 * RouteConfig routes}. The top-level {@code backends}, {@code balancing} and {@code health_check} make the upstream
 * named {@value #DEFAULT}, which takes the requests no route matches.
 *
 * @param name letters, digits, {@code .}, {@code _}, {@code -}
 * @param backends the backends given by URL
 * @param dns the backends found in DNS
 * @param balancing the algorithm (unset keys inherit the top-level {@code balancing})
 * @param healthCheck active and passive checks (unset keys inherit the top-level {@code health_check})
 * @param rateLimit the limit of clients without a limit of their own, for requests to this upstream, counted in
 *     buckets of this upstream's; null: the top-level {@code rate_limit.default}, in the client's shared bucket
 * @param tls the upstream's {@code tls} block: every member is reached over TLS, each backend's own block overriding
 *     it key by key (the backends' settings in effect are in {@link BackendConfig#tls()} and {@link
 *     DnsBackendConfig#tls()}); null when it has none
 */
public record UpstreamConfig(
    String name,
    List<BackendConfig> backends,
    List<DnsBackendConfig> dns,
    BalancingConfig balancing,
    HealthCheckConfig healthCheck,
    RateLimitConfig.@Nullable Limit rateLimit,
    @Nullable BackendTlsConfig tls) {

  /** The name of the upstream made of the top-level {@code backends}. */
  public static final String DEFAULT = "default";

  public UpstreamConfig {
    requireNonNull(name, "name");
    backends = List.copyOf(backends);
    dns = List.copyOf(dns);
    requireNonNull(balancing, "balancing");
    requireNonNull(healthCheck, "healthCheck");
  }

  /** An upstream without a {@code tls} block. */
  public UpstreamConfig(String name, List<BackendConfig> backends, List<DnsBackendConfig> dns,
      BalancingConfig balancing, HealthCheckConfig healthCheck, RateLimitConfig.@Nullable Limit rateLimit) {
    this(name, backends, dns, balancing, healthCheck, rateLimit, null);
  }
}
