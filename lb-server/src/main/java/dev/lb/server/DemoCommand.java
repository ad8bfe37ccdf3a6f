package dev.lb.server;

import dev.lb.config.AdminConfig;
import dev.lb.config.BackendConfig;
import dev.lb.config.LbConfig;
import dev.lb.config.ListenConfig;
import dev.lb.config.RateLimitConfig;
import dev.lb.config.StoreConfig;
import dev.lb.config.LoggingConfig;
import dev.lb.config.ShutdownConfig;
import dev.lb.server.demo.DemoBackend;
import dev.lb.server.demo.SelfTest;
import dev.lb.transport.Transport;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;

/**
 * {@code lb demo}: three demo backends on 8081-8083 and the balancer in front of them on 8080 (admin 9090), in one
 * process, with no file; prints curl lines to try. {@code --port-base N} moves them all: the balancer on N, the
 * backends on N+1 to N+3, the admin listener on N+1010.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
    description = "Runs three demo backends on 8081-8083 and the balancer on 8080 (admin on 9090) in one process, "
        + "and prints commands to try. Ctrl-C stops it. --port-base moves every port when those are taken.")
final class DemoCommand implements Callable<Integer> {

  @Spec private CommandSpec spec;
  static final int PROXY_PORT = 8080;
  static final int ADMIN_PORT = 9090;
  static final String PORTS_HINT = "lb: when a port of the demo is taken, move them all: demo --port-base 18080";

  /** The admin port is this far above the balancer's (9090 for 8080). */
  static final int ADMIN_OFFSET = ADMIN_PORT - PROXY_PORT;

  @Option(names = {"--port-base", "--port"}, paramLabel = "N", defaultValue = "" + PROXY_PORT,
      description = "the balancer's port; the backends take the next three, the admin listener N+" + ADMIN_OFFSET
          + " (default: ${DEFAULT-VALUE})")
  private int portBase = PROXY_PORT;

  @Option(names = "--host", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
      description = "address every listener binds (default: ${DEFAULT-VALUE})")
  private String host = "127.0.0.1";

  @Option(names = "--self-test",
      description = "checks the running demo through its endpoints, prints the results and stops: exit 0 when every "
          + "check passed, 1 otherwise")
  private boolean selfTest;

  @Override
  public Integer call() {
    java.io.PrintWriter out = spec.commandLine().getOut();
    java.io.PrintWriter err = spec.commandLine().getErr();
    if (portBase < 1 || portBase + ADMIN_OFFSET > 65_535) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(),
          "--port-base: " + portBase + " (expected: 1 to " + (65_535 - ADMIN_OFFSET) + ")");
    }
    LbConfig config = config(host, portBase);
    Logging.init(config.logging());
    EventLoopGroup group = Transport.detect().newGroup(1, "lb-demo-backend");
    List<DemoBackend> backends = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        backends.add(DemoBackend.start(host, portBase + 1 + i, "backend-" + (i + 1), group));
      }
    } catch (RuntimeException e) {
      err.println("lb: " + Failures.describe(e));
      err.println(PORTS_HINT);
      err.flush();
      stop(backends, group);
      Logging.shutdown();
      return 1;
    }
    AtomicBoolean passed = new AtomicBoolean(true);
    int code = Runner.serve(config, null, err, server -> {
      if (selfTest) {
        Thread test = new Thread(() -> runSelfTest(server, out, passed), "lb-self-test");
        test.setDaemon(true);
        test.start();
      } else {
        printTryLines(out, host, portBase);
      }
    });
    stop(backends, group);
    if (code == 1) {
      err.println(PORTS_HINT);
      err.flush();
    }
    return code == 0 && !passed.get() ? 1 : code;
  }

  /** Runs {@link SelfTest} against the demo, then drains and stops it. */
  private static void runSelfTest(LbServer server, java.io.PrintWriter out, AtomicBoolean passed) {
    try {
      passed.set(new SelfTest(uri(server.proxyAddress()), uri(server.adminAddress()), out).run());
    } catch (RuntimeException e) {
      passed.set(false);
      out.println("self-test: " + Failures.describe(e));
      out.flush();
    } finally {
      try {
        server.drainAndStop();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static URI uri(InetSocketAddress address) {
    return URI.create("http://" + address.getHostString() + ":" + address.getPort());
  }

  static LbConfig config(String host, int portBase) {
    List<BackendConfig> list = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      int port = portBase + 1 + i;
      list.add(new BackendConfig("http://" + host + ":" + port, host, port, 1));
    }
    LbConfig defaults = LbConfig.withBackends(list);
    RateLimitConfig rl = defaults.rateLimit();
    return new LbConfig(
        new ListenConfig(host, portBase, 0, 10_000),
        new AdminConfig(host, portBase + ADMIN_OFFSET, ""),
        list,
        defaults.balancing(),
        defaults.healthCheck(),
        defaults.proxy(),
        new RateLimitConfig(true, rl.clientKey(), List.of(), true, new RateLimitConfig.Limit(20, 5), List.of()),
        new StoreConfig("jdbc:h2:mem:lb-demo;DB_CLOSE_DELAY=-1", "", "", Duration.ofSeconds(5)),
        new ShutdownConfig(Duration.ZERO, Duration.ofSeconds(5)),
        new LoggingConfig(true, LoggingConfig.LogFormat.TEXT));
  }

  private static void printTryLines(java.io.PrintWriter out, String host, int portBase) {
    String lb = "http://" + host + ":" + portBase;
    String admin = "http://" + host + ":" + (portBase + ADMIN_OFFSET);
    out.println();
    out.println("lb demo: balancer on " + lb + " in front of three backends on ports " + (portBase + 1) + "-"
        + (portBase + 3) + "; admin on " + admin);
    out.println("Try:");
    out.println("  curl -s " + lb + "/hello");
    out.println("  for i in 1 2 3 4 5 6; do curl -s " + lb + "/ | grep -o '\"backend\":\"[^\"]*\"'; done");
    out.println("  curl -s -X POST --data-binary 'hello' " + lb + "/upload");
    out.println("  curl -s -i " + lb + "/ -H 'X-Request-Id: my-id-1'");
    out.println("  curl -s " + admin + "/healthz");
    out.println("  curl -s " + admin + "/readyz");
    out.println("  curl -s " + admin + "/backends");
    out.println("  open " + admin + "/status      # the live status page, in a browser");
    out.println("Rate limiting is on: 20 requests at once, then 5 a second, per client. See 429s:");
    out.println("  for i in $(seq 1 30); do curl -s -o /dev/null -w '%{http_code} ' " + lb + "/; done; echo");
    out.println("  curl -s -X POST -d '{\"client_id\":\"127.0.0.1\",\"capacity\":100,\"rate_per_sec\":50}' "
        + admin + "/clients");
    out.println("  curl -s " + admin + "/clients");
    out.println("Ctrl-C drains and stops.");
    out.println();
    out.flush();
  }

  private static void stop(List<DemoBackend> backends, EventLoopGroup group) {
    for (DemoBackend b : backends) {
      b.close();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }
}
