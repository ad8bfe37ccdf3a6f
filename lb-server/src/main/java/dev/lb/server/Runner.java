package dev.lb.server;

import dev.lb.config.LbConfig;
import java.io.PrintWriter;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.logging.log4j.LogManager;

/** Runs a balancer in the foreground: start, wait for SIGTERM/SIGINT, drain, stop logging, exit code. */
final class Runner {
  private Runner() {}

  /**
   * Serves until a stop signal: 0 after a drain, 1 (with one line on {@code err}) when it cannot start; SIGHUP
   * reloads {@code file}.
   *
   * @param file the configuration file, or null when there is none to reload (demo)
   * @param started runs once both listeners are up, with the running server
   */
  static int serve(LbConfig config, java.nio.file.@org.jspecify.annotations.Nullable Path file, PrintWriter err,
      Consumer<LbServer> started) {
    LbServer server;
    try {
      server = LbServer.start(config, file);
    } catch (Exception e) {
      err.println("lb: " + Failures.describe(e));
      err.flush();
      Logging.shutdown();
      return 1;
    }
    Map<String, String> signals = Signals.install(() -> {
      try {
        server.drainAndStop();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, () -> {
      if (file != null) {
        server.reload(file);
      } else {
        LogManager.getLogger(Runner.class).info("SIGHUP: no configuration file to reload");
      }
    });
    server.signals(signals);
    for (String warning : Signals.warnings(signals, file != null)) {
      LogManager.getLogger(Runner.class).warn(warning);
    }
    Thread warnings = new Thread(() -> {
      for (String warning : ConfigWarnings.of(config)) {
        LogManager.getLogger(Runner.class).warn(warning);
      }
    }, "lb-config-warnings");
    warnings.setDaemon(true);
    warnings.start();
    started.accept(server);
    try {
      server.awaitStopped();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.close();
    }
    Logging.shutdown();
    return 0;
  }
}
