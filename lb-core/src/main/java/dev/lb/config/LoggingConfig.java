package dev.lb.config;

/** Access log on or off, and the log line format. */
public record LoggingConfig(boolean accessLog, LogFormat format) {
  public static LoggingConfig defaults() {
    return new LoggingConfig(true, LogFormat.TEXT);
  }

  /** Plain text lines, or ECS JSON lines. */
  public enum LogFormat {
    TEXT,
    JSON
  }
}
