package dev.lb.it.support;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;

/**
 * A {@code redis-server} of a test's own, as a child process on a free loopback port, without persistence: a test can
 * kill it ({@link #kill()}) and start it again on the same port ({@link #restart()}), freeze it ({@link #pause()},
 * SIGSTOP: a Redis that accepts connections and answers nothing) and thaw it, and read exact {@code INFO
 * commandstats}, since nothing else uses it. Never the shared Redis other builds use.
 *
 * <p>The binary is {@code LB_TEST_REDIS_SERVER} when set, else {@code redis-server} on the {@code PATH};
 * {@link #startOrAbort(Path)} skips the calling test, with the reason, where there is none. Commands go over a fresh
 * socket each ({@link #command(String...)}), so the server sees no handshake of the test's.
 */
public final class RedisServerProcess implements AutoCloseable {
  private static final Duration START = Duration.ofSeconds(30);
  private static final Pattern CMDSTAT = Pattern.compile("cmdstat_([^:]+):calls=(\\d+),.*failed_calls=(\\d+)");

  private final Path binary;
  private final Path dir;
  private final int port;
  private @Nullable Process process;
  private int starts;

  private RedisServerProcess(Path binary, Path dir, int port) {
    this.binary = binary;
    this.dir = dir;
    this.port = port;
  }

  /** Starts a server with its files and log in {@code dir}, or skips the calling test when there is no binary. */
  public static RedisServerProcess startOrAbort(Path dir) throws IOException, InterruptedException {
    Path binary = binary();
    IOException last = null;
    // The port is free when chosen, but something may take it before redis-server binds it: try a few.
    for (int attempt = 0; attempt < 5; attempt++) {
      RedisServerProcess server = new RedisServerProcess(binary, dir, Ports.freePort());
      try {
        server.startProcess();
        return server;
      } catch (IOException e) {
        server.close();
        last = e;
      }
    }
    throw last;
  }

  private static Path binary() {
    String env = System.getenv("LB_TEST_REDIS_SERVER");
    if (env != null && !env.isBlank()) {
      Path p = Path.of(env);
      Assumptions.assumeTrue(Files.isExecutable(p), "LB_TEST_REDIS_SERVER=" + env + " is not an executable file");
      return p;
    }
    String path = System.getenv("PATH");
    if (path != null) {
      for (String d : path.split(File.pathSeparator)) {
        Path p = Path.of(d.isEmpty() ? "." : d, "redis-server");
        if (Files.isExecutable(p)) {
          return p;
        }
      }
    }
    Assumptions.abort("no redis-server on the PATH (set LB_TEST_REDIS_SERVER to one): this test starts, stops and"
        + " restarts a Redis of its own");
    throw new AssertionError("unreachable");
  }

  public int port() {
    return port;
  }

  /** {@code redis://127.0.0.1:PORT/0}. */
  public String url() {
    return "redis://127.0.0.1:" + port + "/0";
  }

  /** The process id of the running server. */
  public long pid() {
    Process p = process;
    if (p == null) {
      throw new IllegalStateException("redis-server is not running");
    }
    return p.pid();
  }

  /** SIGKILL, and waits for the end: connections drop at once, as when a server or its host dies. */
  public void kill() throws InterruptedException {
    Process p = process;
    process = null;
    if (p != null && p.isAlive()) {
      p.destroyForcibly();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        throw new AssertionError("redis-server " + p.pid() + " still running 30 s after SIGKILL");
      }
    }
  }

  /** Starts the server again on the same port, empty (no persistence), and waits until it answers. */
  public void restart() throws IOException, InterruptedException {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException("redis-server is running");
    }
    startProcess();
  }

  /** SIGSTOP: connections stay open and nothing is answered, as with a hung server or a partition. */
  public void pause() throws IOException, InterruptedException {
    signal("STOP");
  }

  /** SIGCONT after {@link #pause()}. */
  public void resume() throws IOException, InterruptedException {
    signal("CONT");
  }

  /** Sends one command on a fresh connection and returns the reply (a String, Long, List, or an error's text). */
  public @Nullable Object command(String... args) throws IOException {
    try (Socket socket = new Socket()) {
      socket.setSoTimeout(10_000);
      socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
      OutputStream out = socket.getOutputStream();
      StringBuilder request = new StringBuilder("*").append(args.length).append("\r\n");
      for (String a : args) {
        byte[] bytes = a.getBytes(StandardCharsets.UTF_8);
        request.append('$').append(bytes.length).append("\r\n").append(a).append("\r\n");
      }
      out.write(request.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      return reply(new BufferedInputStream(socket.getInputStream()));
    }
  }

  /** {@code CONFIG RESETSTAT}: {@link #commandStats()} counts from now on. */
  public void resetStats() throws IOException {
    Object ok = command("CONFIG", "RESETSTAT");
    if (!"OK".equals(ok)) {
      throw new IllegalStateException("CONFIG RESETSTAT answered " + ok);
    }
  }

  /**
   * {@code INFO commandstats}: calls per command name ({@code evalsha}, {@code config|resetstat}, ...), commands run
   * inside scripts included, as Redis counts them; {@code NAME.failed} holds failed calls where there were any.
   */
  public Map<String, Long> commandStats() throws IOException {
    Object info = command("INFO", "commandstats");
    if (!(info instanceof String text)) {
      throw new IllegalStateException("INFO commandstats answered " + info);
    }
    Map<String, Long> calls = new LinkedHashMap<>();
    for (String line : text.split("\r?\n")) {
      Matcher m = CMDSTAT.matcher(line);
      if (m.find()) {
        calls.put(m.group(1), Long.parseLong(m.group(2)));
        long failed = Long.parseLong(m.group(3));
        if (failed > 0) {
          calls.put(m.group(1) + ".failed", failed);
        }
      }
    }
    return calls;
  }

  /** Kills the server if it runs (thawing it first if paused). Idempotent. */
  @Override
  public void close() throws InterruptedException {
    Process p = process;
    if (p != null && p.isAlive()) {
      try {
        resume();
      } catch (IOException | RuntimeException | AssertionError e) {
        // SIGKILL ends a stopped process too.
      }
    }
    kill();
  }

  @Override
  public String toString() {
    return "redis-server on 127.0.0.1:" + port + "\n--- log:\n" + log();
  }

  private void startProcess() throws IOException, InterruptedException {
    starts++;
    Path log = dir.resolve("redis-" + port + "-" + starts + ".log");
    Process p = new ProcessBuilder(binary.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--dir", dir.toString())
        .directory(dir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
    process = p;
    long deadline = System.nanoTime() + START.toNanos();
    while (true) {
      if (!p.isAlive()) {
        process = null;
        throw new IOException("redis-server ended at start (exit " + p.exitValue() + "):\n" + read(log));
      }
      try {
        if ("PONG".equals(command("PING"))) {
          return;
        }
      } catch (IOException notYet) {
        // Not listening yet.
      }
      if (System.nanoTime() - deadline > 0) {
        p.destroyForcibly();
        process = null;
        throw new IOException("redis-server did not answer PING within " + START + ":\n" + read(log));
      }
      Thread.sleep(50);
    }
  }

  private void signal(String name) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid())).redirectErrorStream(true).start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      kill.destroyForcibly();
      throw new AssertionError("kill -" + name + " " + pid() + " failed");
    }
  }

  private String log() {
    StringBuilder all = new StringBuilder();
    for (int i = 1; i <= starts; i++) {
      all.append(read(dir.resolve("redis-" + port + "-" + i + ".log")));
    }
    return all.length() > 4000 ? "..." + all.substring(all.length() - 4000) : all.toString();
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static @Nullable Object reply(InputStream in) throws IOException {
    int type = in.read();
    String line = line(in);
    return switch (type) {
      case '+' -> line;
      case '-' -> "ERR " + line;
      case ':' -> Long.parseLong(line);
      case '$' -> {
        int n = Integer.parseInt(line);
        if (n < 0) {
          yield null;
        }
        byte[] bytes = in.readNBytes(n + 2);
        if (bytes.length < n + 2) {
          throw new EOFException("bulk string cut off");
        }
        yield new String(bytes, 0, n, StandardCharsets.UTF_8);
      }
      case '*' -> {
        int n = Integer.parseInt(line);
        List<@Nullable Object> items = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          items.add(reply(in));
        }
        yield items;
      }
      case -1 -> throw new EOFException("connection closed before a reply");
      default -> throw new ProtocolException("not a RESP reply: " + (char) type + line);
    };
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != '\n') {
      if (b < 0) {
        throw new EOFException("connection closed in a reply");
      }
      if (b != '\r') {
        out.write(b);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
