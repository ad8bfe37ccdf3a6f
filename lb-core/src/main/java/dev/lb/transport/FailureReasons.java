package dev.lb.transport;

import io.netty.channel.ConnectTimeoutException;
import java.io.IOException;
import java.net.ConnectException;
import java.util.Locale;

/** Short reasons for failed connections, for health logs and {@code /backends}. */
public final class FailureReasons {
  private FailureReasons() {}

  /** {@code connection refused}, {@code connect timeout}, {@code connection reset}, or the failure's own message. */
  public static String describe(Throwable cause) {
    if (cause instanceof ConnectTimeoutException) {
      return "connect timeout";
    }
    if (cause instanceof ConnectException) {
      return "connection refused";
    }
    String message = cause.getMessage();
    if (cause instanceof IOException && message != null) {
      String lower = message.toLowerCase(Locale.ROOT);
      if (lower.contains("reset")) {
        return "connection reset";
      }
      if (lower.contains("refused")) {
        return "connection refused";
      }
    }
    return message == null ? cause.getClass().getSimpleName() : message;
  }
}
