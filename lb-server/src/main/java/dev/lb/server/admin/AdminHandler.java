package dev.lb.server.admin;

import java.util.concurrent.CompletionStage;

/**
 * Answers one admin route. Runs on the admin event loop, so it must not block: it returns at once with a completed
 * stage, or with a stage that something else completes later. Work that blocks (database calls) belongs in a
 * {@link BlockingAdminHandler} registered with {@link AdminRouter.Builder#routeBlocking}.
 *
 * <p>A handler that throws, or whose stage completes exceptionally, yields 500 {@code Internal error} and one log line,
 * except for an {@link AdminException}, whose response is sent as it is.
 */
@FunctionalInterface
public interface AdminHandler {
  CompletionStage<AdminResponse> handle(AdminRequest request);
}
