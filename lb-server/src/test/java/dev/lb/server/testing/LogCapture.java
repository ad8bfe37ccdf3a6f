package dev.lb.server.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;
import org.jspecify.annotations.Nullable;

/** Records what one class logs while it is open. */
public final class LogCapture implements AutoCloseable {
  private final List<LogEvent> events = new CopyOnWriteArrayList<>();
  private final LoggerContext context;
  private final Logger logger;
  private final AbstractAppender appender;
  private @Nullable LoggerConfig lowered;
  private @Nullable Level previousLevel;

  private LogCapture(Class<?> source) {
    context = (LoggerContext) LogManager.getContext(false);
    logger = context.getLogger(source.getName());
    appender =
        new AbstractAppender("capture-" + source.getSimpleName(), null, null, true, Property.EMPTY_ARRAY) {
          @Override
          public void append(LogEvent event) {
            events.add(event.toImmutable());
          }
        };
    appender.start();
    logger.addAppender(appender);
  }

  public static LogCapture of(Class<?> source) {
    return new LogCapture(source);
  }

  /** Records what the class logs at this level or above (tests log warnings only otherwise), while open. */
  public static LogCapture of(Class<?> source, Level level) {
    LogCapture capture = new LogCapture(source);
    // Adding the appender gave the class a logger config of its own: lowering its level touches no other logger.
    LoggerConfig config = capture.context.getConfiguration().getLoggerConfig(source.getName());
    capture.lowered = config;
    capture.previousLevel = config.getLevel();
    config.setLevel(level);
    capture.context.updateLoggers();
    return capture;
  }

  public List<LogEvent> events() {
    return List.copyOf(events);
  }

  @Override
  public void close() {
    logger.removeAppender(appender);
    appender.stop();
    if (lowered != null) {
      lowered.setLevel(previousLevel);
      context.updateLoggers();
    }
  }
}
