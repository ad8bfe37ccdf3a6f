package dev.lb.testing;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** Signals to processes a test started (dnsmasq, redis-server), through {@code kill}. */
public final class Signals {
  private Signals() {}

  /**
   * Sends signal {@code name} ({@code HUP}, {@code STOP}, ...) to {@code process}.
   *
   * @throws IllegalStateException when the process is not running
   */
  public static void send(Process process, String name) throws IOException, InterruptedException {
    if (process == null) {
      throw new IllegalStateException("not running");
    }
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).redirectErrorStream(true)
        .start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      kill.destroyForcibly();
      throw new AssertionError("kill -" + name + " " + process.pid() + " failed");
    }
  }
}
