package dev.lb.server.admin;

import static java.util.Objects.requireNonNull;

import dev.lb.server.admin.AdminRouter.Route;
import dev.lb.server.admin.AdminRouter.RouteMatch;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jspecify.annotations.Nullable;

/**
 * Takes one admin request from route lookup to an answer: 404/405, access (401/403), the path parameter (400), then
 * the handler, on the event loop or on the blocking executor. Whatever goes wrong in a handler becomes an answer
 * here, so the returned stage never fails. Knows no channels; shared by every connection of one server.
 */
final class AdminDispatcher {
  private static final Logger LOG = LogManager.getLogger(AdminDispatcher.class);

  /**
   * Canned answers. They are written by the admin API's JSON mapper, whose first use costs a tenth of a second, so
   * they are built when first needed rather than when the listener starts (the proxy is serving by then).
   */
  static final class Canned {
    static final AdminResponse NOT_FOUND = AdminResponse.error(404, "Not found");
    static final AdminResponse INTERNAL_ERROR = AdminResponse.error(500, "Internal error");
    static final AdminResponse UNAVAILABLE = AdminResponse.error(503, "Service unavailable");

    private Canned() {}
  }

  private final AdminRouter router;
  private final AccessControl access;
  private final Executor blockingExecutor;

  AdminDispatcher(AdminRouter router, AccessControl access, Executor blockingExecutor) {
    this.router = requireNonNull(router, "router");
    this.access = requireNonNull(access, "access");
    this.blockingExecutor = requireNonNull(blockingExecutor, "blockingExecutor");
  }

  /**
   * The answer to {@code request}; the stage always completes normally, possibly on another thread. Writes are
   * recorded by {@link Audit}, refused ones too.
   */
  CompletionStage<AdminResponse> dispatch(AdminRequest request) {
    CompletionStage<AdminResponse> answer = route(request);
    if (!Audit.writes(request.method())) {
      return answer;
    }
    return answer.thenApply(response -> {
      Audit.record(request, response);
      return response;
    });
  }

  private CompletionStage<AdminResponse> route(AdminRequest request) {
    RouteMatch match = router.match(request.method(), request.path());
    Route route = match.route();
    if (route == null) {
      return done(
          match.allow().isEmpty()
              ? Canned.NOT_FOUND
              : AdminResponse.error(405, "Method not allowed")
                  .withHeader(HttpHeaderNames.ALLOW.toString(), match.allow()));
    }
    AdminResponse refused = access.check(route.access(), request);
    if (refused != null) {
      return done(refused);
    }
    String name = route.pattern().paramName();
    String raw = match.rawParam();
    if (name == null || raw == null) {
      return run(route, request);
    }
    String value;
    try {
      value = PathPattern.decodeSegment(raw);
    } catch (IllegalArgumentException e) {
      return done(AdminResponse.error(400, "Malformed path parameter: " + name));
    }
    return run(route, request.withPathParam(name, value));
  }

  private CompletionStage<AdminResponse> run(Route route, AdminRequest request) {
    return invoke(route, request).handle((response, failure) -> answer(request, response, failure));
  }

  private CompletionStage<AdminResponse> invoke(Route route, AdminRequest request) {
    if (!route.blocking()) {
      return call(route.handler(), request);
    }
    try {
      return CompletableFuture.supplyAsync(() -> call(route.handler(), request), blockingExecutor)
          .thenCompose(stage -> stage);
    } catch (RejectedExecutionException e) {
      LOG.warn("Admin request {} {} refused: blocking executor is saturated or shut down", request.method(),
          request.path());
      return done(Canned.UNAVAILABLE);
    }
  }

  private static CompletionStage<AdminResponse> call(AdminHandler handler, AdminRequest request) {
    try {
      CompletionStage<AdminResponse> stage = handler.handle(request);
      return stage != null ? stage : CompletableFuture.failedFuture(new NullPointerException("handler returned null"));
    } catch (Throwable t) {
      return CompletableFuture.failedFuture(t);
    }
  }

  private static AdminResponse answer(
      AdminRequest request, @Nullable AdminResponse response, @Nullable Throwable failure) {
    if (failure == null && response != null) {
      return response;
    }
    Throwable cause = unwrap(failure);
    if (cause instanceof AdminException) {
      return ((AdminException) cause).response();
    }
    if (cause == null) {
      cause = new NullPointerException("handler completed with a null response");
    }
    LOG.error("Admin handler for {} {} failed", request.method(), request.path(), cause);
    return Canned.INTERNAL_ERROR;
  }

  private static @Nullable Throwable unwrap(@Nullable Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  private static CompletionStage<AdminResponse> done(AdminResponse response) {
    return CompletableFuture.completedFuture(response);
  }
}
