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

  /** Starts {@code java <jvmFlags> -jar lb.jar args...} in {@code workDir}. */
  static JarProcess start(Path workDir, List<String> jvmFlags, String... args) throws IOException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    List<String> command = new ArrayList<>(List.of(
        java.toString(), "-Xmx256m", "-Dio.netty.leakDetection.level=paranoid"));
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
