package dev.lb.server;

/** One line naming why something failed, for the operator. */
final class Failures {
  private Failures() {}

  static String describe(Throwable e) {
    String message = e.getMessage();
    Throwable cause = e.getCause();
    if ((message == null || message.isBlank()) && cause != null) {
      return describe(cause);
    }
    return message == null ? e.getClass().getSimpleName() : message;
  }
}
