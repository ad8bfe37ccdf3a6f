package dev.lb.server.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.ServerSocket;
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
 * A {@code redis-server} (or Sentinel) of a test's own, as a child process on a free 127.0.0.1 port without
 * persistence, for what a shared Redis must not be put through: a test can kill it ({@link #kill()}) and start it
 * again on the same port ({@link #restart()}), freeze it ({@link #pause()}, SIGSTOP: a Redis that accepts connections
 * and answers nothing) and thaw it, give it a replica and a {@link #sentinel Sentinel}, and read exact
 * {@code INFO commandstats}.
 *
 * <p>The binary is {@code LB_TEST_REDIS_SERVER} (a path, or a name on the {@code PATH}), else {@code redis-server} on
 * the {@code PATH}; where there is none, the calling test is skipped with the reason. Each process keeps its files and
 * logs in a directory of its own under the one given, which {@link #toString()} names, with the end of the logs.
 */
public final class RedisProcess implements AutoCloseable {
  private static final Duration START = Duration.ofSeconds(30);
  private static final Pattern CMDSTAT = Pattern.compile("cmdstat_([^:]+):calls=(\\d+),.*failed_calls=(\\d+)");

  private final Path dir;
  private final List<String> argv;
  private final int port;
  private @Nullable Process process;
  private int starts;

  private RedisProcess(Path dir, List<String> argv, int port) {
    this.dir = dir;
    this.argv = argv;
    this.port = port;
  }

  /**
   * Starts a server under {@code dir} and waits until it answers; {@code extra} are more {@code redis-server}
   * arguments ({@code --replicaof 127.0.0.1 N}).
   */
  public static RedisProcess start(Path dir, String... extra) throws IOException, InterruptedException {
    return launch(dir, "redis", (home, port) -> {
      List<String> args = new ArrayList<>(List.of("--port", Integer.toString(port), "--bind", "127.0.0.1",
          "--save", "", "--appendonly", "no", "--dir", home.toString()));
      args.addAll(List.of(extra));
      return args;
    });
  }

  /**
   * Starts a Sentinel under {@code dir} watching the master at {@code masterPort} under {@code name}, with a quorum of
   * one and the master counted down after {@code downAfterMillis}.
   */
  public static RedisProcess sentinel(Path dir, String name, int masterPort, long downAfterMillis)
      throws IOException, InterruptedException {
    return launch(dir, "sentinel", (home, port) -> {
      Path conf = Files.writeString(home.resolve("sentinel.conf"), String.join("\n",
          "port " + port,
          "bind 127.0.0.1",
          "dir " + home,
          "sentinel monitor " + name + " 127.0.0.1 " + masterPort + " 1",
          "sentinel down-after-milliseconds " + name + " " + downAfterMillis,
          "sentinel failover-timeout " + name + " 10000",
          "sentinel parallel-syncs " + name + " 1",
          ""));
      return List.of(conf.toString(), "--sentinel");
    });
  }

  /** The arguments after the binary, for a process living in {@code home} on {@code port}. */
  private interface Arguments {
    List<String> of(Path home, int port) throws IOException;
  }

  private static RedisProcess launch(Path dir, String kind, Arguments arguments)
      throws IOException, InterruptedException {
    String binary = binaryOrAbort();
    // The port is free when chosen, but something may take it before the process binds it: try a few.
    for (int attempt = 1; ; attempt++) {
      int port = freePort();
      Path home = Files.createDirectories(dir.resolve(kind + "-" + port));
      List<String> argv = new ArrayList<>(List.of(binary));
      argv.addAll(arguments.of(home, port));
      RedisProcess redis = new RedisProcess(home, List.copyOf(argv), port);
      try {
        redis.startProcess();
        return redis;
      } catch (IOException e) {
        if (attempt == 5) {
          throw e;
        }
      }
    }
  }

  private static String binaryOrAbort() {
    String env = System.getenv("LB_TEST_REDIS_SERVER");
    String name = env == null || env.isBlank() ? "redis-server" : env;
    if (name.contains(File.separator)) {
      Assumptions.assumeTrue(Files.isExecutable(Path.of(name)), "LB_TEST_REDIS_SERVER=" + name
          + " is not an executable file");
      return name;
    }
    for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(d.isEmpty() ? "." : d, name);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    Assumptions.abort("no " + name + " on the PATH (set LB_TEST_REDIS_SERVER to one): this test runs a Redis of its"
        + " own");
    throw new AssertionError("unreachable");
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** The port it listens on. */
  public int port() {
    return port;
  }

  /** {@code redis://127.0.0.1:PORT}. */
  public String url() {
    return "redis://127.0.0.1:" + port;
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

  /** Kills it if it runs, then starts it again on the same port with the same arguments and waits until it answers. */
  public void restart() throws IOException, InterruptedException {
    kill();
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

  /**
   * Sends one command on a fresh connection (so the server sees no handshake of the test's) and returns the reply: a
   * String ({@code "ERR ..."} for an error), Long, List, or null.
   */
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

  /** Kills it if it runs (thawing it first if paused). Idempotent. */
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
    return argv.get(0) + " on 127.0.0.1:" + port + " (" + dir + ")\n--- log:\n" + log();
  }

  private void startProcess() throws IOException, InterruptedException {
    starts++;
    Path log = log(starts);
    Process p = new ProcessBuilder(argv)
        .directory(dir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
    process = p;
    long deadline = System.nanoTime() + START.toNanos();
    while (true) {
      if (!p.isAlive()) {
        process = null;
        throw new IOException(this + "\nended at start (exit " + p.exitValue() + ")");
      }
      try {
        if ("PONG".equals(command("PING"))) {
          return;
        }
      } catch (IOException notYet) {
        // Not listening yet.
      }
      if (System.nanoTime() - deadline > 0) {
        kill();
        throw new IOException(this + "\ndid not answer PING within " + START);
      }
      Thread.sleep(50);
    }
  }

  private void signal(String name) throws IOException, InterruptedException {
    Process p = process;
    if (p == null) {
      throw new IllegalStateException("not running: " + this);
    }
    dev.lb.testing.Signals.send(p, name);
  }

  private Path log(int start) {
    return dir.resolve("run-" + start + ".log");
  }

  /** The end of the logs of every start. */
  private String log() {
    StringBuilder all = new StringBuilder();
    for (int i = 1; i <= starts; i++) {
      try {
        Path file = log(i);
        all.append(Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return all.length() > 4000 ? "..." + all.substring(all.length() - 4000) : all.toString();
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
