package dev.lb.testing;

import io.netty.util.NetUtil;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;

/**
 * A {@code dnsmasq} of a test's own: an authoritative little DNS server on a free 127.0.0.1 port (UDP and TCP),
 * serving A and AAAA records from a hosts file the test rewrites ({@link #hosts}) and SRV records given at start
 * ({@link #srv}), with a TTL of {@link #TTL_SECONDS} second. It can be stopped ({@link #stop()}: queries time out)
 * and started again on the same port ({@link #restart()}).
 *
 * <ul>
 *   <li>Names under {@link #DOMAIN} are answered from those records only: a name not in the hosts file is NXDOMAIN, a
 *       name without records of the type asked for an empty NOERROR answer.
 *   <li>Names under {@link #REFUSING_DOMAIN} are answered REFUSED (dnsmasq has no server to forward them to), which
 *       is what dnsmasq answers where a server fails; it does not make SERVFAIL itself.
 *   <li>Every query is logged, and {@link #queries} counts them per name.
 * </ul>
 *
 * <p>The binary is {@code LB_TEST_DNSMASQ} (a path, or a name on the {@code PATH}), else {@code dnsmasq} on the
 * {@code PATH} or in {@code /usr/sbin}; where there is none, the calling test is skipped with the reason. It runs in
 * debug mode ({@code --no-daemon}), which also keeps it from switching to another user (which, started as root, could
 * not read the test's files). The hosts file and the logs are in a directory of its own under the one given, which
 * {@link #toString()} names, with the end of the logs.
 */
public final class Dnsmasq implements AutoCloseable {
  /** The domain served from the hosts file and the SRV records only. */
  public static final String DOMAIN = "lb.test";
  /** A domain whose names are answered REFUSED. */
  public static final String REFUSING_DOMAIN = "refused.lb.test";
  /** The TTL of every record. */
  public static final int TTL_SECONDS = 1;

  private static final Duration START = Duration.ofSeconds(30);
  private static final Duration RELOAD = Duration.ofSeconds(30);

  /**
   * One SRV record ({@code --srv-host}).
   *
   * @param name {@code _service._proto.NAME}
   * @param target the host name the service runs on
   */
  public record Srv(String name, String target, int port, int priority, int weight) {}

  private final String binary;
  private final Path dir;
  private final Path hostsFile;
  private final int port;
  private Map<String, List<String>> hosts;
  private List<Srv> srv;
  private @Nullable Process process;
  private int starts;

  private Dnsmasq(String binary, Path dir, int port, Map<String, List<String>> hosts, List<Srv> srv) {
    this.binary = binary;
    this.dir = dir;
    this.hostsFile = dir.resolve("hosts");
    this.port = port;
    this.hosts = hosts;
    this.srv = srv;
  }

  /**
   * Starts a server under {@code dir} and waits until it answers.
   *
   * @param hosts addresses (IPv4 or IPv6 literals) by name; names should be under {@link #DOMAIN}
   */
  public static Dnsmasq start(Path dir, Map<String, List<String>> hosts, Srv... srv)
      throws IOException, InterruptedException {
    String binary = binaryOrAbort();
    // The port is free when chosen, but something may take it before dnsmasq binds it: try a few.
    for (int attempt = 1; ; attempt++) {
      int port = freePort();
      Dnsmasq dns = new Dnsmasq(binary, Files.createDirectories(dir.resolve("dnsmasq-" + port)), port,
          copy(hosts), List.of(srv));
      Files.writeString(dns.hostsFile, hostsText(dns.hosts), StandardCharsets.UTF_8);
      try {
        dns.startProcess();
        return dns;
      } catch (IOException e) {
        if (attempt == 5) {
          throw e;
        }
      }
    }
  }

  private static String binaryOrAbort() {
    String env = System.getenv("LB_TEST_DNSMASQ");
    String name = env == null || env.isBlank() ? "dnsmasq" : env;
    if (name.contains(File.separator)) {
      Assumptions.assumeTrue(Files.isExecutable(Path.of(name)), "LB_TEST_DNSMASQ=" + name
          + " is not an executable file");
      return name;
    }
    List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
    dirs.add("/usr/sbin");
    for (String d : dirs) {
      Path p = Path.of(d.isEmpty() ? "." : d, name);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    Assumptions.abort("no " + name + " on the PATH or in /usr/sbin (set LB_TEST_DNSMASQ to one): this test runs a"
        + " DNS server of its own");
    throw new AssertionError("unreachable");
  }

  /** A port free for both TCP and UDP on 127.0.0.1. */
  private static int freePort() throws IOException {
    InetAddress loopback = InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
    for (int attempt = 0; attempt < 20; attempt++) {
      try (ServerSocket tcp = new ServerSocket(0, 1, loopback);
          DatagramSocket udp = new DatagramSocket(new InetSocketAddress(loopback, tcp.getLocalPort()))) {
        return udp.getLocalPort();
      } catch (IOException taken) {
        // The UDP port is in use: another.
      }
    }
    throw new IOException("no port free for both TCP and UDP");
  }

  /** The port it serves on, UDP and TCP. */
  public int port() {
    return port;
  }

  /** {@code 127.0.0.1:PORT}, for a resolver list. */
  public InetSocketAddress address() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
  }

  /**
   * Serves these A and AAAA records from now on, in place of the ones before: rewrites the hosts file, has dnsmasq
   * read it again (SIGHUP) and waits until every name, old and new, is answered as it now should be.
   */
  public void hosts(Map<String, List<String>> now) throws IOException, InterruptedException {
    Map<String, List<String>> before = hosts;
    hosts = copy(now);
    Files.writeString(hostsFile, hostsText(hosts), StandardCharsets.UTF_8);
    signal("HUP");
    Set<String> names = new TreeSet<>(before.keySet());
    names.addAll(hosts.keySet());
    long deadline = System.nanoTime() + RELOAD.toNanos();
    for (String name : names) {
      Set<String> expected = canonical(hosts.getOrDefault(name, List.of()));
      while (!expected.equals(DnsProbe.addresses(address(), name))) {
        if (System.nanoTime() - deadline > 0) {
          throw new AssertionError(name + " is not answered " + expected + " within " + RELOAD + ": " + this);
        }
        Thread.sleep(20);
      }
    }
  }

  /**
   * Serves these SRV records from now on, in place of the ones before: dnsmasq reads them from its command line
   * only, so this restarts it on the same port (queries in between go unanswered).
   */
  public void srv(Srv... now) throws IOException, InterruptedException {
    srv = List.of(now);
    restart();
  }

  /** Ends it (SIGTERM, then SIGKILL) and waits for the end: queries to its port go unanswered. Idempotent. */
  public void stop() throws InterruptedException {
    Process p = process;
    process = null;
    if (p != null && p.isAlive()) {
      p.destroy();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          throw new AssertionError("dnsmasq " + p.pid() + " still running 30 s after SIGKILL");
        }
      }
    }
  }

  /** Stops it if it runs, then starts it again on the same port with the current records, and waits until it answers. */
  public void restart() throws IOException, InterruptedException {
    stop();
    startProcess();
  }

  /** How many queries (any type) for {@code name} it has logged, over every start. */
  public int queries(String name) {
    Pattern query = Pattern.compile("query\\[\\w+\\] " + Pattern.quote(name.toLowerCase(Locale.ROOT)) + " from ");
    int count = 0;
    for (int i = 1; i <= starts; i++) {
      count += (int) query.matcher(read(log(i))).results().count();
    }
    return count;
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }

  @Override
  public String toString() {
    StringBuilder all = new StringBuilder();
    for (int i = 1; i <= starts; i++) {
      all.append(read(log(i)));
    }
    String log = all.length() > 4000 ? "..." + all.substring(all.length() - 4000) : all.toString();
    return "dnsmasq on 127.0.0.1:" + port + " (" + dir + ")\n--- log:\n" + log;
  }

  private List<String> argv() {
    List<String> argv = new ArrayList<>(List.of(binary,
        "--no-daemon",
        "--conf-file=/dev/null",
        "--port=" + port,
        "--listen-address=127.0.0.1",
        "--bind-interfaces",
        "--no-resolv",
        "--no-hosts",
        "--addn-hosts=" + hostsFile,
        "--local-ttl=" + TTL_SECONDS,
        "--pid-file=",
        "--local=/" + DOMAIN + "/",
        // "#": the system's servers, of which --no-resolv leaves none, so dnsmasq refuses.
        "--server=/" + REFUSING_DOMAIN + "/#",
        "--log-queries",
        "--log-facility=-"));
    for (Srv s : srv) {
      argv.add("--srv-host=" + s.name() + "," + s.target() + "," + s.port() + "," + s.priority() + "," + s.weight());
    }
    return argv;
  }

  private void startProcess() throws IOException, InterruptedException {
    starts++;
    Process p = new ProcessBuilder(argv())
        .directory(dir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(log(starts).toFile())
        .start();
    process = p;
    long deadline = System.nanoTime() + START.toNanos();
    // Any answer will do: an NXDOMAIN says it is up.
    while (DnsProbe.rcode(address(), "up." + DOMAIN) < 0) {
      if (!p.isAlive()) {
        process = null;
        throw new IOException(this + "\nended at start (exit " + p.exitValue() + ")");
      }
      if (System.nanoTime() - deadline > 0) {
        stop();
        throw new IOException(this + "\ndid not answer within " + START);
      }
      Thread.sleep(20);
    }
  }

  private void signal(String name) throws IOException, InterruptedException {
    Process p = process;
    if (p == null) {
      throw new IllegalStateException("not running: " + this);
    }
    Signals.send(p, name);
  }

  private Path log(int start) {
    return dir.resolve("run-" + start + ".log");
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Map<String, List<String>> copy(Map<String, List<String>> hosts) {
    Map<String, List<String>> copy = new TreeMap<>();
    hosts.forEach((name, ips) -> copy.put(name.toLowerCase(Locale.ROOT), List.copyOf(ips)));
    return copy;
  }

  private static String hostsText(Map<String, List<String>> hosts) {
    StringBuilder text = new StringBuilder();
    hosts.forEach((name, ips) -> ips.forEach(ip -> text.append(ip).append(' ').append(name).append('\n')));
    return text.toString();
  }

  private static Set<String> canonical(List<String> ips) {
    Set<String> set = new TreeSet<>();
    for (String ip : ips) {
      byte @Nullable [] bytes = NetUtil.createByteArrayFromIpAddressString(ip);
      if (bytes == null) {
        throw new IllegalArgumentException("not an IP address: " + ip);
      }
      set.add(NetUtil.bytesToIpAddress(bytes));
    }
    return set;
  }
}
