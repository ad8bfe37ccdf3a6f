package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar lb.jar ...} as a child process, with Netty's paranoid leak detection, its output in files of the
 * working directory (no pipe can fill and block it), and a forced stop on {@link #close()} if it is still running.
 */
final class JarProcess implements AutoCloseable {
  private final Process process;
  private final Path stdout;
  private final Path stderr;
  private final List<String> command;

  private JarProcess(Process process, Path stdout, Path stderr, List<String> command) {
    this.process = process;
    this.stdout = stdout;
    this.stderr = stderr;
    this.command = command;
  }

  /** The fat jar under test, as the build passes it (system property {@code lb.jar}). */
  static Path jar() {
    String property = System.getProperty("lb.jar");
    assertThat(property).as("system property lb.jar (set by failsafe)").isNotBlank();
    Path jar = Path.of(property).toAbsolutePath().normalize();
    assertThat(jar).as("the fat jar; build it with mvn -DskipTests package").isRegularFile();
    return jar;
  }

  /** Starts {@code java -jar lb.jar args...} in {@code workDir}. */
  static JarProcess start(Path workDir, String... args) throws IOException {
    return start(workDir, List.of(), args);
  }

  /**
   * Starts {@code java <jvmFlags> -jar lb.jar args...} in {@code workDir}, with the default disposition of every
   * signal the tests send ({@link #DEFAULT_SIGNALS}), however this JVM was started: a suite run under {@code nohup}
   * or as a script's background job would otherwise hand SIGHUP or SIGINT down as ignored, and lb could not handle
   * them.
   */
  static JarProcess start(Path workDir, List<String> jvmFlags, String... args) throws IOException {
    return launch(workDir, DEFAULT_SIGNALS, jvmFlags, args);
  }

  /** Where {@code env --default-signal} exists: the prefix that gives the jar default dispositions; else empty. */
  static final List<String> DEFAULT_SIGNALS = envSupports("--default-signal=HUP,INT,TERM")
      ? List.of("env", "--default-signal=HUP,INT,TERM") : List.of();

  /**
   * Skips the calling test when the jar would inherit {@code signal} (a name: {@code HUP}, {@code INT}) as ignored:
   * this JVM has it ignored and {@code env --default-signal} (coreutils 8.31+) is not there to restore it.
   */
  static void assumeSignalReachesTheJar(String signal) {
    org.junit.jupiter.api.Assumptions.assumeTrue(!DEFAULT_SIGNALS.isEmpty() || !ignoredHere(signal),
        () -> "this test JVM inherited SIG" + signal + " as ignored (started under nohup, or as a background job?),"
            + " the jar would too, and env --default-signal (coreutils 8.31+) is not here to give it the default");
  }

  /** Whether this JVM inherited {@code signal} as ignored ({@code SigIgn} of {@code /proc/self/status}). */
  static boolean ignoredHere(String signal) {
    return ignoredBy(ProcessHandle.current().pid(), signal);
  }

  /** Whether process {@code pid} ignores {@code signal} (HUP, INT or TERM), from its {@code /proc/<pid>/status}. */
  static boolean ignoredBy(long pid, String signal) {
    int number = switch (signal) {
      case "HUP" -> 1;
      case "INT" -> 2;
      case "TERM" -> 15;
      default -> throw new IllegalArgumentException(signal);
    };
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("SigIgn:")) {
          return (Long.parseUnsignedLong(line.substring(7).trim(), 16) >>> (number - 1) & 1) != 0;
        }
      }
    } catch (IOException | RuntimeException e) {
      // Not Linux: unknown, taken as not ignored.
    }
    return false;
  }

  /** Whether this machine's {@code env} takes {@code option} (coreutils 8.31+ has the signal options). */
  static boolean envSupports(String option) {
    try {
      Process p = new ProcessBuilder("env", option, "true").redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * Starts {@code <launcher...> java <jvmFlags> -jar lb.jar args...} in {@code workDir}: the launcher execs java
   * (as {@code env} and {@code nohup} do), so the process is the JVM itself.
   */
  static JarProcess launch(Path workDir, List<String> launcher, List<String> jvmFlags, String... args)
      throws IOException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    List<String> command = new ArrayList<>(launcher);
    command.addAll(List.of(java.toString(), "-Xmx256m", "-Dio.netty.leakDetection.level=paranoid"));
    command.addAll(jvmFlags);
    command.addAll(List.of("-jar", jar().toString()));
    command.addAll(List.of(args));
    String tag = Long.toString(System.nanoTime());
    Path out = workDir.resolve("stdout-" + tag + ".txt");
    Path err = workDir.resolve("stderr-" + tag + ".txt");
    Process process = new ProcessBuilder(command)
        .directory(workDir.toFile())
        .redirectOutput(out.toFile())
        .redirectError(err.toFile())
        .start();
    return new JarProcess(process, out, err, command);
  }

  Process process() {
    return process;
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** SIGTERM on Linux. */
  void terminate() {
    process.destroy();
  }

  /** Sends a signal by name ({@code INT}, {@code HUP}, ...) with {@code kill}. */
  void signal(String name) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      kill.destroyForcibly();
      throw new AssertionError("kill -" + name + " " + process.pid() + " failed");
    }
  }

  /**
   * Waits for the exit.
   *
   * @throws AssertionError if the process is still running after {@code timeout}
   */
  int waitFor(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("still running after " + timeout + ": " + this);
    }
    return process.exitValue();
  }

  String stdout() {
    return read(stdout);
  }

  String stderr() {
    return read(stderr);
  }

  /** Non-blank lines of standard error. */
  List<String> stderrLines() {
    return stderr().lines().filter(l -> !l.isBlank()).toList();
  }

  /** Fails if Netty reported a leaked buffer in the process's output. */
  void assertNoLeaks() {
    assertThat(stdout() + stderr()).as("output of %s", this).doesNotContain("LEAK:");
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Override
  public String toString() {
    return String.join(" ", command) + "\n--- stdout:\n" + tail(stdout()) + "\n--- stderr:\n" + tail(stderr());
  }

  private static String tail(String text) {
    return text.length() > 4000 ? "..." + text.substring(text.length() - 4000) : text;
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
