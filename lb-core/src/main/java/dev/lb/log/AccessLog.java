package dev.lb.log;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/** Where access-log entries go: the {@value #LOGGER} logger, or nowhere. */
public interface AccessLog {
  /** The log4j2 logger name of the access log. */
  String LOGGER = "lb.access";

  /** Whether entries are wanted at all; when not, callers build none. */
  boolean enabled();

  void log(AccessLogMessage message);

  /** An access log that takes nothing. */
  AccessLog DISABLED =
      new AccessLog() {
        @Override
        public boolean enabled() {
          return false;
        }

        @Override
        public void log(AccessLogMessage message) {}
      };

  /** The {@value #LOGGER} logger at INFO, or {@link #DISABLED} when off. */
  static AccessLog log4j(boolean on) {
    if (!on) {
      return DISABLED;
    }
    Logger logger = LogManager.getLogger(LOGGER);
    return new AccessLog() {
      @Override
      public boolean enabled() {
        return logger.isInfoEnabled();
      }

      @Override
      public void log(AccessLogMessage message) {
        logger.info(message);
      }
    };
  }
}
