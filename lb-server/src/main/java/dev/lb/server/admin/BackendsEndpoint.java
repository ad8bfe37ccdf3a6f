package dev.lb.server.admin;

import dev.lb.backend.Backend;
import dev.lb.health.BackendHealth;
import io.netty.handler.codec.http.HttpMethod;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * {@code GET /backends}: every backend with its health and load, in configuration order. A management endpoint: it
 * needs the admin token, or a loopback caller when none is set. Reads only volatile state, so it runs on the admin
 * event loop.
 */
public final class BackendsEndpoint {
  private BackendsEndpoint() {}

  /** One backend as the endpoint shows it (snake_case in JSON). */
  public record View(
      String url,
      boolean healthy,
      int weight,
      int activeRequests,
      int consecutiveFailures,
      @Nullable String lastCheck,
      String lastCheckResult,
      String state,
      String stateSince,
      String stateReason) {

    static View of(Backend b) {
      BackendHealth h = b.health();
      Instant lastCheck = h.lastCheck();
      return new View(
          b.url(),
          h.isHealthy(),
          b.weight(),
          b.activeRequests(),
          h.consecutiveFailures(),
          lastCheck == null ? null : lastCheck.toString(),
          h.lastCheckResult(),
          h.isHealthy() ? "up" : "down",
          h.stateSince().toString(),
          h.stateReason());
    }
  }

  public static AdminRouter.Builder register(AdminRouter.Builder routes, Supplier<List<Backend>> backends) {
    return routes.route(HttpMethod.GET, "/backends", Access.MANAGEMENT, request -> {
      List<View> views = new ArrayList<>();
      for (Backend b : backends.get()) {
        views.add(View.of(b));
      }
      return CompletableFuture.completedFuture(AdminResponse.json(200, views));
    });
  }
}
