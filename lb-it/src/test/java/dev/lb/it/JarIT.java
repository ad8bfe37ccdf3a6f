package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lb.it.support.Ports;
import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.RawResponse;
import dev.lb.it.support.TestBackend;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The real fat jar in a child process: serving and draining on SIGTERM, {@code check}, a taken port, {@code demo},
 * {@code --version} and {@code --help}, with their exit codes; every run with paranoid leak detection and no
 * {@code LEAK:} in its output.
 */
class JarIT {
  private static final Duration START = Duration.ofSeconds(30);
  /** Generous: the demo's self-test records a class-data archive at exit, which takes long on a busy machine. */
  private static final Duration EXIT = Duration.ofSeconds(90);

  @TempDir Path dir;

  @ParameterizedTest(name = "SIG{0}")
  @ValueSource(strings = {"TERM", "INT"})
  void serveDrainsARequestInFlightOnAStopSignalAndExitsZero(String signal) throws Exception {
    assumeTrue(ProcessHandle.current().supportsNormalTermination(), "SIGTERM through Process.destroy()");
    assumeTrue(signal.equals("TERM") || Files.isExecutable(Path.of("/bin/kill")), "/bin/kill for SIGINT");
    JarProcess.assumeSignalReachesTheJar(signal);
    int port = Ports.freePort();
    int adminPort = Ports.freePort();
    try (TestBackend backend = TestBackend.start("b1")) {
      Path config = write("lb.yaml", "listen: { host: 127.0.0.1, port: " + port + ", workers: 1 }\n"
          + "admin: { host: 127.0.0.1, port: " + adminPort + " }\n"
          + "backends:\n  - url: " + backend.url() + "\n"
          + "health_check: { enabled: false }\n"
          + "shutdown: { drain_delay: 0s, grace_period: 10s }\n");
      try (JarProcess lb = JarProcess.start(dir, "serve", "-c", config.toString())) {
        awaitStatus(lb, adminPort, "/readyz", 200);
        try (RawHttpClient client = RawHttpClient.connect(port)) {
          assertThat(client.get("/").readResponse().bodyString()).isEqualTo("b1");
          client.get("/slow?ms=1500");
          await("the slow request reaches the backend").atMost(START).until(() -> backend.requests() == 2);

          if (signal.equals("TERM")) {
            lb.terminate();
          } else {
            lb.signal(signal);
          }

          RawResponse response = client.readResponse(Duration.ofSeconds(15));
          assertThat(response.status()).as("%s", response).isEqualTo(200);
          assertThat(response.bodyString()).isEqualTo("b1");
          assertThat(response.headers().hasToken("Connection", "close")).as("%s", response).isTrue();
        }
        assertThat(lb.waitFor(EXIT)).as("exit code of %s", lb).isZero();
        lb.assertNoLeaks();
      }
    }
  }

  @Test
  void checkPrintsTheEffectiveConfigWithTheTokenMasked() throws Exception {
    Path config = write("good.yaml", "listen: { host: 127.0.0.1, port: 18080 }\n"
        + "admin: { port: 19090, token: \"s3cret-admin-token\" }\n"
        + "backends:\n  - url: http://127.0.0.1:18081\n");
    try (JarProcess check = JarProcess.start(dir, "check", "-c", config.toString())) {
      assertThat(check.waitFor(EXIT)).as("exit code of %s", check).isZero();

      String out = check.stdout();
      assertThat(out).doesNotContain("s3cret-admin-token");
      assertThat(out.lines()).anyMatch(line -> line.matches("\\s*token: ['\"]?\\*\\*\\*\\*['\"]?"));
      assertThat(out).contains("url: http://127.0.0.1:18081").contains("grace_period: 30s");
      check.assertNoLeaks();
    }
  }

  @Test
  void checkListsEveryBadFieldAndExitsTwo() throws Exception {
    Path config = write("bad.yaml", "listen: { host: 127.0.0.1, port: 70000 }\n"
        + "backends:\n  - url: http://127.0.0.1:18081\n"
        + "balancing: { algorithm: nope }\n"
        + "proxy: { max_retries: 99 }\n");
    try (JarProcess check = JarProcess.start(dir, "check", "-c", config.toString())) {
      assertThat(check.waitFor(EXIT)).as("exit code of %s", check).isEqualTo(2);

      List<String> lines = check.stderrLines();
      assertThat(lines).as("%s", check).hasSize(3)
          .allMatch(line -> line.matches("[a-z_]+(\\.[a-z_]+)*: .+ \\(expected: .+\\)"));
      assertThat(lines).anyMatch(line -> line.startsWith("listen.port: 70000 (expected: "))
          .anyMatch(line -> line.startsWith("balancing.algorithm: nope (expected: "))
          .anyMatch(line -> line.startsWith("proxy.max_retries: 99 (expected: "));
    }
  }

  @ParameterizedTest(name = "{0} port taken")
  @ValueSource(strings = {"listen", "admin"})
  void serveOnATakenPortExitsOneWithALineNamingTheAddress(String which) throws Exception {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      int port = taken.getLocalPort();
      int listenPort = which.equals("listen") ? port : Ports.freePort();
      int adminPort = which.equals("admin") ? port : Ports.freePort();
      Path config = write("taken.yaml", "listen: { host: 127.0.0.1, port: " + listenPort + " }\n"
          + "admin: { host: 127.0.0.1, port: " + adminPort + " }\n"
          + "backends:\n  - url: http://127.0.0.1:18081\n"
          + "health_check: { enabled: false }\n");
      try (JarProcess lb = JarProcess.start(dir, "serve", "-c", config.toString())) {
        assertThat(lb.waitFor(EXIT)).as("exit code of %s", lb).isEqualTo(1);

        assertThat(lb.stderrLines()).as("%s", lb).hasSize(1);
        assertThat(lb.stderrLines().get(0)).contains("127.0.0.1:" + port);
        lb.assertNoLeaks();
      }
    }
  }

  @Test
  void aMissingConfigFileOrAnUnknownCommandExitsTwo() throws Exception {
    try (JarProcess lb = JarProcess.start(dir, "serve", "-c", "no-such.yaml")) {
      assertThat(lb.waitFor(EXIT)).as("exit code of %s", lb).isEqualTo(2);
      assertThat(lb.stdout() + lb.stderr()).contains("no-such.yaml");
    }
    try (JarProcess lb = JarProcess.start(dir, "no-such-command")) {
      assertThat(lb.waitFor(EXIT)).as("exit code of %s", lb).isEqualTo(2);
    }
  }

  @Test
  void backendAnswersWithJsonNamingItselfAndStopsOnSigterm() throws Exception {
    assumeTrue(ProcessHandle.current().supportsNormalTermination(), "SIGTERM through Process.destroy()");
    int port = Ports.freePort();
    try (JarProcess backend = JarProcess.start(dir, "backend", "--port", Integer.toString(port), "--name", "zed")) {
      awaitStatus(backend, port, "/health", 200);
      try (RawHttpClient client = RawHttpClient.connect(port)) {
        RawResponse response =
            client.send("PUT /some/path?x=1 HTTP/1.1\r\nHost: h\r\nX-Test: yes\r\nContent-Length: 2\r\n\r\nhi")
                .readResponse();
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("Content-Type")).startsWith("application/json");
        var json = LbAssertions.json(response.bodyString());
        assertThat(json.path("backend").asText()).isEqualTo("zed");
        assertThat(json.path("method").asText()).isEqualTo("PUT");
        assertThat(json.path("path").asText()).startsWith("/some/path");
        assertThat(json.path("headers").toString()).contains("x-test");
      }

      backend.terminate();

      assertThat(backend.waitFor(EXIT)).as("exit code of %s", backend).isZero();
      backend.assertNoLeaks();
    }
  }

  @Test
  void demoBalancesOverItsThreeBackendsAndStopsOnSigterm() throws Exception {
    assumeTrue(ProcessHandle.current().supportsNormalTermination(), "SIGTERM through Process.destroy()");
    for (int port : new int[] {8080, 8081, 8082, 8083, 9090}) {
      assumeTrue(isFree(port), "port " + port + " is taken");
    }
    try (JarProcess demo = JarProcess.start(dir, "demo")) {
      awaitStatus(demo, 9090, "/healthz", 200);

      List<String> names = new ArrayList<>();
      try (RawHttpClient client = RawHttpClient.connect(8080)) {
        for (int i = 0; i < 6; i++) {
          RawResponse response = client.get("/").readResponse();
          assertThat(response.status()).as("%s", response).isEqualTo(200);
          assertThat(response.header("Content-Type")).startsWith("application/json");
          names.add(LbAssertions.json(response.bodyString()).path("backend").asText());
        }
      }
      assertThat(names.subList(0, 3)).containsExactlyInAnyOrder("backend-1", "backend-2", "backend-3");
      assertThat(names.subList(3, 6)).as("each in turn").containsExactlyElementsOf(names.subList(0, 3));
      assertThat(names.get(1)).as("turn after %s", names.get(0)).isEqualTo(next(names.get(0)));
      assertThat(demo.stdout()).contains("curl");

      demo.terminate();

      assertThat(demo.waitFor(EXIT)).as("exit code of %s", demo).isZero();
      demo.assertNoLeaks();
    }
  }

  @Test
  void demoSelfTestPassesAndRecordsAClassDataArchiveTheJvmCanMap() throws Exception {
    for (int port : new int[] {8080, 8081, 8082, 8083, 9090}) {
      assumeTrue(isFree(port), "port " + port + " is taken");
    }
    Path archive = dir.resolve("lb.jsa");
    try (JarProcess demo = JarProcess.start(dir, List.of("-XX:ArchiveClassesAtExit=" + archive),
        "demo", "--self-test")) {
      assertThat(demo.waitFor(EXIT)).as("exit code of %s", demo).isZero();
      assertThat(demo.stdout()).contains("self-test: 11 of 11 checks passed").doesNotContain("FAIL");
      demo.assertNoLeaks();
    }
    assertThat(archive).as("the archive the README and the image use").isRegularFile();
    // -Xshare:on makes the JVM refuse to start when it cannot map the archive.
    try (JarProcess version = JarProcess.start(dir, List.of("-Xshare:on", "-XX:SharedArchiveFile=" + archive),
        "--version")) {
      assertThat(version.waitFor(EXIT)).as("%s", version).isZero();
      assertThat(version.stdout()).startsWith("lb ");
    }
  }

  @Test
  void demoMovesEveryPortWithPortBase() throws Exception {
    assumeTrue(ProcessHandle.current().supportsNormalTermination(), "SIGTERM through Process.destroy()");
    int base = 0;
    for (int candidate = 20_000 + (int) (ProcessHandle.current().pid() % 5_000) * 4; base == 0; candidate += 7) {
      if (isFree(candidate) && isFree(candidate + 1) && isFree(candidate + 2) && isFree(candidate + 3)
          && isFree(candidate + 1010)) {
        base = candidate;
      }
    }
    try (JarProcess demo = JarProcess.start(dir, "demo", "--port-base", Integer.toString(base))) {
      awaitStatus(demo, base + 1010, "/healthz", 200);
      Set<String> names = new HashSet<>();
      try (RawHttpClient client = RawHttpClient.connect(base)) {
        for (int i = 0; i < 3; i++) {
          RawResponse response = client.get("/").readResponse();
          assertThat(response.status()).as("%s", response).isEqualTo(200);
          names.add(LbAssertions.json(response.bodyString()).path("backend").asText());
        }
      }
      assertThat(names).containsExactlyInAnyOrder("backend-1", "backend-2", "backend-3");
      int b = base;
      await().atMost(Duration.ofSeconds(30)).until(() -> demo.stdout().contains("http://127.0.0.1:" + b + "/hello"));
      assertThat(demo.stdout()).contains("ports " + (base + 1) + "-" + (base + 3))
          .contains("http://127.0.0.1:" + (base + 1010) + "/backends");
      demo.terminate();
      assertThat(demo.waitFor(EXIT)).as("exit code of %s", demo).isZero();
    }
  }

  @Test
  void aHealthPathEveryBackendAnswers404IsWarnedAboutByCheckAndAtStart() throws Exception {
    assumeTrue(ProcessHandle.current().supportsNormalTermination(), "SIGTERM through Process.destroy()");
    int port = Ports.freePort();
    int adminPort = Ports.freePort();
    try (TestBackend backend = TestBackend.start("b1")) {
      Path config = write("warn.yaml", "listen: { host: 127.0.0.1, port: " + port + " }\n"
          + "admin: { host: 127.0.0.1, port: " + adminPort + " }\n"
          + "backends:\n  - url: " + backend.url() + "\n"
          + "health_check: { path: \"/status?code=404\" }\n");
      String warning = "health_check.path: /status?code=404: every backend answers 404, so the active health check"
          + " will mark them all DOWN";
      try (JarProcess check = JarProcess.start(dir, "check", "-c", config.toString())) {
        assertThat(check.waitFor(EXIT)).as("%s", check).isZero();
        assertThat(check.stderr()).contains("warning: " + warning);
      }
      try (JarProcess lb = JarProcess.start(dir, "serve", "-c", config.toString())) {
        awaitStatus(lb, adminPort, "/healthz", 200);
        await("the warning at start").atMost(Duration.ofSeconds(30)).until(() -> lb.stdout().contains(warning));
        lb.terminate();
        assertThat(lb.waitFor(EXIT)).as("exit code of %s", lb).isZero();
      }
    }
  }

  @Test
  void withoutAFileOrAnArgumentLbSaysHowToGiveOne() throws Exception {
    try (JarProcess lb = JarProcess.start(dir)) {
      assertThat(lb.waitFor(EXIT)).as("%s", lb).isEqualTo(2);
      assertThat(lb.stderr()).contains("config/lb.yaml: file not found")
          .contains("-c FILE").contains("java -jar lb.jar demo");
    }
  }

  @Test
  void versionAndHelpExitZero() throws Exception {
    try (JarProcess version = JarProcess.start(dir, "--version")) {
      assertThat(version.waitFor(EXIT)).as("%s", version).isZero();
      assertThat(version.stdout()).startsWith("lb ");
    }
    try (JarProcess help = JarProcess.start(dir, "--help")) {
      assertThat(help.waitFor(EXIT)).as("%s", help).isZero();
      assertThat(help.stdout()).contains("Usage:").contains("serve").contains("demo").contains("backend")
          .contains("check");
    }
    try (JarProcess help = JarProcess.start(dir, "check", "--help")) {
      assertThat(help.waitFor(EXIT)).as("%s", help).isZero();
      assertThat(help.stdout()).contains("Usage:");
    }
  }

  private static String next(String name) {
    int n = name.charAt(name.length() - 1) - '0';
    return "backend-" + (n % 3 + 1);
  }

  private Path write(String name, String text) throws IOException {
    return Files.writeString(dir.resolve(name), text);
  }

  /** Waits until {@code GET path} on the port answers {@code status}, failing early if the process has ended. */
  static void awaitStatus(JarProcess process, int port, String path, int status) {
    await(path + " on " + port).atMost(START).pollInterval(Duration.ofMillis(100)).ignoreExceptionsInstanceOf(IOException.class).until(() -> {
      if (!process.isAlive()) {
        throw new AssertionError("process ended early: " + process);
      }
      try (RawHttpClient client = RawHttpClient.connect(port)) {
        return client.get(path).readResponse().status() == status;
      }
    });
  }

  private static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress("0.0.0.0", port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
