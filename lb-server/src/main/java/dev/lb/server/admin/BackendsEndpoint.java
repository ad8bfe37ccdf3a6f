package dev.lb.server.admin;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendHealth;
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

  /**
   * One backend as the endpoint shows it (snake_case in JSON). {@code healthy} and {@code state} say whether it takes
   * traffic; {@code active} is what the active checks say ({@code up}, {@code down}, or {@code off}), with
   * {@code state_since} and {@code state_reason} about them; {@code ejected_until}, {@code ejections},
   * {@code consecutive_errors} and {@code last_error} are the passive signal, outlier detection.
   */
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
      String stateReason,
      String active,
      boolean ejected,
      @Nullable String ejectedUntil,
      int ejections,
      int consecutiveErrors,
      String lastError,
      int maxConnections,
      int openConnections) {

    static View of(Backend b) {
      BackendHealth h = b.health();
      Instant lastCheck = h.lastCheck();
      Instant ejectedUntil = h.ejectedUntil();
      boolean tracked = h.policy().tracking();
      String active = !tracked ? "off" : h.activeUp() ? "up" : "down";
      return new View(
          b.url(),
          h.isHealthy(),
          b.weight(),
          b.activeRequests(),
          h.consecutiveFailures(),
          lastCheck == null ? null : lastCheck.toString(),
          h.lastCheckResult(),
          !h.activeUp() ? "down" : h.ejected() ? "ejected" : "up",
          h.stateSince().toString(),
          h.stateReason(),
          active,
          h.ejected(),
          ejectedUntil == null ? null : ejectedUntil.toString(),
          h.ejections(),
          h.consecutiveErrors(),
          h.lastError(),
          b.maxConnections(),
          b.openConnections());
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
