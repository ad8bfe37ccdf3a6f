package dev.lb.server;

import java.util.ArrayList;
import java.util.List;
import sun.misc.Signal;

/**
 * Turns SIGTERM and SIGINT into a call on a thread of its own, instead of the JVM's immediate exit, so that a drain
 * can finish and the process exit with 0 (a second Ctrl-C hurries the drain); and SIGHUP into a reload.
 */
final class Signals {
  private Signals() {}

  /** Installs the handlers; returns the names of the signals that could not be handled here. */
  static List<String> onStop(Runnable action) {
    return on(action, "TERM", "INT");
  }

  /** Runs {@code action} on each SIGHUP, on a thread of its own. */
  static List<String> onReload(Runnable action) {
    return on(action, "HUP");
  }

  private static List<String> on(Runnable action, String... names) {
    List<String> failed = new ArrayList<>();
    for (String name : names) {
      try {
        Signal.handle(new Signal(name), signal -> {
          Thread t = new Thread(action, "lb-signal-" + name.toLowerCase(java.util.Locale.ROOT));
          t.setDaemon(false);
          t.start();
        });
      } catch (IllegalArgumentException unsupported) {
        failed.add(name);
      }
    }
    return failed;
  }
}
