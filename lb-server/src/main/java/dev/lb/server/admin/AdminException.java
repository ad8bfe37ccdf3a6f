package dev.lb.server.admin;

import static java.util.Objects.requireNonNull;

/**
 * A handler's way to end a request with an error answer ({@code {"code":N,"message":"..."}}) from anywhere in its
 * code, for instance 400 naming a bad field or 404 for an unknown client. Not logged: it is an answer, not a fault.
 * Carries no stack trace.
 */
public final class AdminException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient AdminResponse response;

  /** An error answer with the given status (400 to 599) and message. */
  public AdminException(int status, String message) {
    super(requireNonNull(message, "message"), null, false, false);
    if (status < 400 || status > 599) {
      throw new IllegalArgumentException("status: " + status + " (expected: 400 to 599)");
    }
    this.response = AdminResponse.error(status, message);
  }

  /** 400 with the given message, which should name the offending field. */
  public static AdminException badRequest(String message) {
    return new AdminException(400, message);
  }

  /** 404 with the given message. */
  public static AdminException notFound(String message) {
    return new AdminException(404, message);
  }

  /** The answer to send. */
  public AdminResponse response() {
    return response;
  }
}
