package dev.lb.server.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

/** Records what one class logs while it is open. */
public final class LogCapture implements AutoCloseable {
  private final List<LogEvent> events = new CopyOnWriteArrayList<>();
  private final Logger logger;
  private final AbstractAppender appender;

  private LogCapture(Class<?> source) {
    LoggerContext context = (LoggerContext) LogManager.getContext(false);
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

  public List<LogEvent> events() {
    return List.copyOf(events);
  }

  @Override
  public void close() {
    logger.removeAppender(appender);
    appender.stop();
  }
}
