package dev.lb.server.admin;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.handler.codec.http.HttpMethod;

/**
 * {@code GET /metrics}: the Prometheus text exposition format, open to any caller (as scrapers expect). A scrape runs
 * on the blocking executor, not the admin event loop: it reads every gauge, and the JVM's and process's gauges read
 * files (the CPU load reads the cgroup's files under {@code /sys/fs/cgroup}).
 */
public final class MetricsEndpoint {
  /** The content type of the Prometheus text format 0.0.4. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private MetricsEndpoint() {}

  public static AdminRouter.Builder register(AdminRouter.Builder routes, PrometheusMeterRegistry registry) {
    return routes.routeBlocking(HttpMethod.GET, "/metrics", Access.OPEN,
        request -> AdminResponse.text(200, CONTENT_TYPE, registry.scrape()));
  }
}
