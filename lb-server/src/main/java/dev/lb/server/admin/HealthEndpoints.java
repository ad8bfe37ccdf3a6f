package dev.lb.server.admin;

import static java.util.Objects.requireNonNull;

import io.netty.handler.codec.http.HttpMethod;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;

/**
 * {@code GET /healthz} (liveness: 200 {@code {"status":"UP"}} while the process answers at all) and {@code GET
 * /readyz} (readiness: 200 {@code {"status":"READY"}}, or 503 {@code {"status":"DRAINING"}} once the readiness
 * source says no). Both are open to anyone and answer on the event loop from canned responses.
 */
public final class HealthEndpoints {
  private static final CompletionStage<AdminResponse> UP =
      CompletableFuture.completedStage(AdminResponse.json(200, "{\"status\":\"UP\"}"));
  private static final CompletionStage<AdminResponse> READY =
      CompletableFuture.completedStage(AdminResponse.json(200, "{\"status\":\"READY\"}"));
  private static final CompletionStage<AdminResponse> DRAINING =
      CompletableFuture.completedStage(AdminResponse.json(503, "{\"status\":\"DRAINING\"}"));

  private HealthEndpoints() {}

  /**
   * Adds both routes to {@code routes}.
   *
   * @param ready read on every {@code /readyz}; must be cheap and must not block (a {@link Readiness} is both)
   * @return {@code routes}, for chaining
   */
  public static AdminRouter.Builder register(AdminRouter.Builder routes, BooleanSupplier ready) {
    requireNonNull(routes, "routes");
    requireNonNull(ready, "ready");
    return routes
        .route(HttpMethod.GET, "/healthz", Access.OPEN, request -> UP)
        .route(HttpMethod.GET, "/readyz", Access.OPEN, request -> ready.getAsBoolean() ? READY : DRAINING);
  }
}
