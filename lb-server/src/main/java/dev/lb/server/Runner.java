package dev.lb.server;

import dev.lb.config.LbConfig;
import java.util.List;
import org.apache.logging.log4j.LogManager;

/** Runs a balancer in the foreground: start, wait for SIGTERM/SIGINT, drain, stop logging, exit code. */
final class Runner {
  private Runner() {}

  /** Serves until a stop signal; 0 after a drain, 1 (with one line on stderr) when it cannot start. */
  static int serve(LbConfig config) {
    return serve(config, () -> {});
  }

  /**
   * Serves until a stop signal.
   *
   * @param started runs once both listeners are up
   */
  static int serve(LbConfig config, Runnable started) {
    LbServer server;
    try {
      server = LbServer.start(config);
    } catch (Exception e) {
      System.err.println("lb: " + Failures.describe(e));
      Logging.shutdown();
      return 1;
    }
    List<String> unhandled = Signals.onStop(() -> {
      try {
        server.drainAndStop();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    if (!unhandled.isEmpty()) {
      LogManager.getLogger(Runner.class).warn("signals not handled here: {}", unhandled);
    }
    started.run();
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
