package dev.lb.proxy;

import java.util.ArrayList;
import java.util.List;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.Property;

/**
 * Collects the warnings and errors lb's own loggers write, so that the fuzz harness can treat "closing client
 * connection after an unexpected error" (an exception lb did not expect escaping a handler) as a finding.
 */
final class WarningRecorder extends AbstractAppender {
  private static final List<String> SEEN = new ArrayList<>();
  private static boolean installed;

  private WarningRecorder() {
    super("lb-fuzz-warnings", null, null, true, Property.EMPTY_ARRAY);
  }

  /** Adds the recorder to the root logger once. */
  static synchronized void install() {
    if (installed) {
      return;
    }
    LoggerContext context = (LoggerContext) LogManager.getContext(false);
    Configuration config = context.getConfiguration();
    WarningRecorder recorder = new WarningRecorder();
    recorder.start();
    config.addAppender(recorder);
    config.getRootLogger().addAppender(recorder, Level.WARN, null);
    context.updateLoggers();
    installed = true;
  }

  /** The warnings recorded since the last call. */
  static synchronized List<String> drain() {
    List<String> out = new ArrayList<>(SEEN);
    SEEN.clear();
    return out;
  }

  @Override
  public void append(LogEvent event) {
    if (!event.getLoggerName().startsWith("dev.lb.") || !event.getLevel().isMoreSpecificThan(Level.WARN)) {
      return;
    }
    StringBuilder sb = new StringBuilder(event.getLevel() + " " + event.getLoggerName() + ": "
        + event.getMessage().getFormattedMessage());
    Throwable thrown = event.getThrown();
    if (thrown != null) {
      sb.append(": ").append(thrown);
      StackTraceElement[] trace = thrown.getStackTrace();
      for (int i = 0; i < Math.min(4, trace.length); i++) {
        sb.append("\n      at ").append(trace[i]);
      }
    }
    synchronized (WarningRecorder.class) {
      SEEN.add(sb.toString());
    }
  }
}
