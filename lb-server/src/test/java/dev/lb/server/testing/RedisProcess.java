package dev.lb.server.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;

/**
 * A {@code redis-server} of a test's own on a free 127.0.0.1 port, for what a shared Redis must not be put through
 * (stopped, failed over, its statistics reset). The binary is {@code LB_TEST_REDIS_SERVER} or {@code redis-server} on
 * the PATH; a test is skipped, with the reason, where there is none. Nothing is kept on disk but its work directory.
 */
public final class RedisProcess implements AutoCloseable {
  private final Path dir;
  private final List<String> command;
  private final int port;
  private Process process;

  private RedisProcess(Path dir, List<String> command, int port) {
    this.dir = dir;
    this.command = command;
    this.port = port;
  }

  /** The redis-server binary, or aborts the calling test (skipped) when there is none. */
  public static String binaryOrAbort() {
    String env = System.getenv("LB_TEST_REDIS_SERVER");
    String name = env == null || env.isBlank() ? "redis-server" : env;
    if (name.contains("/")) {
      Assumptions.assumeTrue(Files.isExecutable(Path.of(name)), "no redis-server at " + name);
      return name;
    }
    for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, name))) {
        return Path.of(d, name).toString();
      }
    }
    Assumptions.abort("no " + name + " on the PATH (set LB_TEST_REDIS_SERVER)");
    throw new AssertionError();
  }

  /** Starts a server; {@code extra} are more {@code redis-server} arguments ({@code --replicaof 127.0.0.1 N}). */
  public static RedisProcess start(String... extra) throws IOException {
    Path dir = Files.createTempDirectory("lb-redis");
    int port = freePort();
    List<String> command = new ArrayList<>(List.of(binaryOrAbort(), "--port", Integer.toString(port),
        "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString(),
        "--logfile", dir.resolve("redis.log").toString()));
    command.addAll(List.of(extra));
    RedisProcess redis = new RedisProcess(dir, command, port);
    redis.startProcess();
    return redis;
  }

  /**
   * Starts a Sentinel watching the master at {@code masterPort} under {@code name}, with a quorum of one and a
   * master counted down after {@code downAfterMillis}.
   */
  public static RedisProcess sentinel(String name, int masterPort, long downAfterMillis) throws IOException {
    Path dir = Files.createTempDirectory("lb-sentinel");
    int port = freePort();
    Path conf = dir.resolve("sentinel.conf");
    Files.writeString(conf, String.join("\n",
        "port " + port,
        "bind 127.0.0.1",
        "dir " + dir,
        "logfile " + dir.resolve("sentinel.log"),
        "sentinel monitor " + name + " 127.0.0.1 " + masterPort + " 1",
        "sentinel down-after-milliseconds " + name + " " + downAfterMillis,
        "sentinel failover-timeout " + name + " 10000",
        "sentinel parallel-syncs " + name + " 1",
        ""));
    RedisProcess sentinel = new RedisProcess(dir, List.of(binaryOrAbort(), conf.toString(), "--sentinel"), port);
    sentinel.startProcess();
    return sentinel;
  }

  private void startProcess() throws IOException {
    process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(dir.resolve("stdout.log").toFile()).start();
    Awaitility.await("redis-server on port " + port + " (" + dir + ")").atMost(30, TimeUnit.SECONDS)
        .pollInterval(50, TimeUnit.MILLISECONDS).until(this::accepts);
  }

  /** The port it listens on. */
  public int port() {
    return port;
  }

  /** {@code redis://127.0.0.1:PORT}. */
  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  /** Stops it at once (SIGKILL): a crash, or a host gone. */
  public void kill() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** Starts it again on the same port and with the same arguments, empty. */
  public void restart() throws IOException, InterruptedException {
    kill();
    startProcess();
  }

  private boolean accepts() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() {
    try {
      kill();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "redis-server :" + port + " (" + dir + ")";
  }
}
