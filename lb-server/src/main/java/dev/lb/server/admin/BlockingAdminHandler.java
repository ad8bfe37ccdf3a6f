package dev.lb.server.admin;

/**
 * Answers one admin route by blocking work (database calls, files). Registered with
 * {@link AdminRouter.Builder#routeBlocking}, it runs on the blocking executor handed to {@link AdminServer#start},
 * never on the admin event loop. Throwing {@link AdminException} sends its response; anything else thrown yields 500
 * {@code Internal error} and one log line.
 */
@FunctionalInterface
public interface BlockingAdminHandler {
  AdminResponse handle(AdminRequest request) throws Exception;
}
