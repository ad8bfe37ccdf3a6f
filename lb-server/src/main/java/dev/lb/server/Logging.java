package dev.lb.server;

import dev.lb.config.LoggingConfig;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;

/**
 * Chooses log4j2's configuration from {@code logging.format} ({@code log4j2.xml} for text, {@code log4j2-json.xml}
 * for ECS JSON), unless the operator named one with {@code -Dlog4j2.configurationFile}. Called before anything logs.
 */
final class Logging {
  static final String CONFIG_PROPERTY = "log4j2.configurationFile";

  private Logging() {}

  static void init(LoggingConfig logging) {
    if (System.getProperty(CONFIG_PROPERTY) != null) {
      return;
    }
    String resource = logging.format() == LoggingConfig.LogFormat.JSON ? "log4j2-json.xml" : "log4j2.xml";
    System.setProperty(CONFIG_PROPERTY, "classpath:" + resource);
    LoggerContext context = (LoggerContext) LogManager.getContext(false);
    URL url = Logging.class.getResource("/" + resource);
    if (url != null && !url.toString().equals(String.valueOf(context.getConfigLocation()))) {
      try {
        URI uri = url.toURI();
        context.setConfigLocation(uri);
      } catch (URISyntaxException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** Writes what is still queued (the access log is asynchronous) and stops logging. */
  static void shutdown() {
    LogManager.shutdown();
  }
}
