package dev.lb.server.admin;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.handler.codec.http.HttpMethod;
import java.util.concurrent.CompletableFuture;

/** {@code GET /metrics}: the Prometheus text exposition format, open to any caller (as scrapers expect). */
public final class MetricsEndpoint {
  /** The content type of the Prometheus text format 0.0.4. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private MetricsEndpoint() {}

  public static AdminRouter.Builder register(AdminRouter.Builder routes, PrometheusMeterRegistry registry) {
    return routes.route(HttpMethod.GET, "/metrics", Access.OPEN,
        request -> CompletableFuture.completedFuture(AdminResponse.text(200, CONTENT_TYPE, registry.scrape())));
  }
}
