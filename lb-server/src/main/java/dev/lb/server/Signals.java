package dev.lb.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import sun.misc.Signal;

/**
 * Turns SIGTERM and SIGINT into a call on a thread of its own, instead of the JVM's immediate exit, so that a drain
 * can finish and the process exit with 0 (a second Ctrl-C hurries the drain); and SIGHUP into a reload.
 *
 * <p>A signal the process inherited as ignored (SIGHUP under {@code nohup}, SIGINT for a background job of a
 * non-interactive shell) cannot be handled: the JVM leaves a shutdown-class signal that was ignored at start ignored,
 * and {@code Signal.handle} then neither fails nor installs anything. So the dispositions are read first, from
 * {@code /proc/self/status} on Linux, and each such signal is reported with what to do instead.
 */
final class Signals {
  /** What a handled signal does. */
  static final String DRAIN = "drain";
  static final String RELOAD = "reload";
  /** Not handled: the process inherited the signal as ignored. */
  static final String IGNORED = "ignored";
  /** Not handled: the JVM keeps the signal for itself (e.g. {@code -Xrs}) or the platform has none. */
  static final String UNAVAILABLE = "unavailable";

  private static final String DEFAULTS =
      "start lb with default signal dispositions, e.g. env --default-signal=HUP,INT java -jar lb.jar ..."
          + " (coreutils 8.31+)";

  private Signals() {}

  /**
   * Installs the stop handlers (TERM, INT) and the reload handler (HUP), each running its action on a thread of its
   * own; returns what each signal does now, by name: {@value #DRAIN}, {@value #RELOAD}, {@value #IGNORED} or
   * {@value #UNAVAILABLE}.
   */
  static Map<String, String> install(Runnable stop, Runnable reload) {
    long ignored = ignoredAtStart();
    Map<String, String> states = new LinkedHashMap<>();
    states.put("TERM", handle("TERM", stop, DRAIN, ignored));
    states.put("INT", handle("INT", stop, DRAIN, ignored));
    states.put("HUP", handle("HUP", reload, RELOAD, ignored));
    return states;
  }

  /** Installs the stop handlers only (the test backend); returns the names of the signals not handled. */
  static List<String> onStop(Runnable action) {
    long ignored = ignoredAtStart();
    List<String> failed = new ArrayList<>();
    for (String name : List.of("TERM", "INT")) {
      if (!handle(name, action, DRAIN, ignored).equals(DRAIN)) {
        failed.add(name);
      }
    }
    return failed;
  }

  private static String handle(String name, Runnable action, String does, long ignoredMask) {
    try {
      Signal signal = new Signal(name);
      if (ignored(ignoredMask, signal.getNumber())) {
        return IGNORED;
      }
      Signal.handle(signal, s -> {
        Thread t = new Thread(action, "lb-signal-" + name.toLowerCase(Locale.ROOT));
        t.setDaemon(false);
        t.start();
      });
      return does;
    } catch (IllegalArgumentException unsupported) {
      return UNAVAILABLE;
    }
  }

  /**
   * One warning for each signal that is not handled, saying what will not work and what to do instead; none for
   * SIGHUP when there is no file to reload.
   */
  static List<String> warnings(Map<String, String> states, boolean hasFile) {
    List<String> out = new ArrayList<>();
    states.forEach((name, state) -> {
      if (state.equals(DRAIN) || state.equals(RELOAD) || (name.equals("HUP") && !hasFile)) {
        return;
      }
      String why = state.equals(IGNORED)
          ? "SIG" + name + " is ignored in this process: it was ignored when lb started" + (switch (name) {
            case "HUP" -> " (nohup does that)";
            case "INT" -> " (a background job of a script gets that)";
            default -> "";
          })
          : "SIG" + name + " cannot be handled in this JVM (it keeps the signal for itself, e.g. with -Xrs)";
      out.add(why + ", so " + switch (name) {
        case "HUP" -> "kill -HUP will not reload the configuration: reload with POST /reload on the admin listener,"
            + " or set config.watch: true to reload whenever the file changes; to reload on SIGHUP, " + DEFAULTS;
        case "INT" -> "Ctrl-C and kill -INT will not stop lb: stop it with SIGTERM (kill <pid>, as orchestrators do),"
            + " which drains the same way; to stop on SIGINT too, " + DEFAULTS;
        default -> "kill <pid> and orchestrators will not stop lb (they fall back to SIGKILL, which does not drain):"
            + " stop it with SIGINT, which drains the same way; to stop on SIGTERM, "
            + DEFAULTS.replace("HUP,INT", "TERM,HUP,INT");
      });
    });
    return out;
  }

  /** The signals this process inherited as ignored, as the kernel's bit mask (bit n-1 for signal n); 0 if unknown. */
  static long ignoredAtStart() {
    try {
      return ignoredMask(Files.readString(Path.of("/proc/self/status")));
    } catch (IOException | RuntimeException e) {
      return 0;   // not Linux, or no /proc: nothing known, and Signal.handle's answer stands
    }
  }

  /** The {@code SigIgn} mask of a {@code /proc/<pid>/status} text; 0 when it has none. */
  static long ignoredMask(String status) {
    for (String line : status.split("\n")) {
      if (line.startsWith("SigIgn:")) {
        return Long.parseUnsignedLong(line.substring("SigIgn:".length()).trim(), 16);
      }
    }
    return 0;
  }

  static boolean ignored(long mask, int signal) {
    return signal >= 1 && signal <= 64 && (mask >>> (signal - 1) & 1) != 0;
  }
}
