package dev.lb.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.config.LbConfig;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command line in-process: exit codes, messages, masking. */
class MainTest {
  @TempDir Path dir;

  @BeforeAll
  static void keepTestLogging() {
    // serve would otherwise switch log4j2 to the application's configuration for the rest of this JVM.
    System.setProperty(Logging.CONFIG_PROPERTY, "log4j2-test.xml");
  }

  private record Result(int code, String out, String err) {}

  private static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = new CommandLine(new Main()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  private Path file(String name, String yaml) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, yaml);
    return p;
  }

  @Test
  void versionAndHelpExitZero() {
    Result version = run("--version");
    assertThat(version.code()).isZero();
    assertThat(version.out()).startsWith("lb " + Version.get());
    Result help = run("--help");
    assertThat(help.code()).isZero();
    assertThat(help.out()).contains("serve", "demo", "backend", "check", "Exit codes");
    for (String command : new String[] {"serve", "demo", "backend", "check"}) {
      Result sub = run(command, "--help");
      assertThat(sub.code()).as(command).isZero();
      assertThat(run(command, "--version").out()).as(command).startsWith("lb ");
    }
  }

  @Test
  void checkPrintsTheEffectiveConfigWithSecretsMasked() throws IOException {
    Path config = file("lb.yaml", """
        admin: { token: "s3cret-token" }
        backends:
          - url: http://127.0.0.1:8081
        store: { url: "jdbc:postgresql://db:5432/lb", password: "pw" }
        health_check: { enabled: false }
        """);
    Result r = run("check", "-c", config.toString());
    assertThat(r.code()).isZero();
    assertThat(r.err()).as("no warning: the health path is not probed with the checks off").isEmpty();
    assertThat(r.out()).contains("valid", "url: \"http://127.0.0.1:8081\"".replace("\"", ""))
        .contains("****").doesNotContain("s3cret-token").doesNotContain("pw\n");
    assertThat(r.out()).contains("grace_period: 30s");
  }

  @Test
  void aBadConfigListsEveryBadFieldAndExits2() throws IOException {
    Path config = file("bad.yaml", """
        listen: { port: 70000 }
        backends:
          - url: ftp://x
        proxy: { connect_timeout: 5 }
        """);
    Result r = run("check", "-c", config.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().lines()).hasSize(3)
        .allMatch(line -> line.matches("[a-z_.\\[\\]0-9]+: .+ \\(expected: .+\\)"), "path: value (expected: ...)");
    assertThat(r.err()).contains("listen.port: 70000").contains("backends[0].url: ftp://x")
        .contains("proxy.connect_timeout: 5");
    assertThat(run("serve", "-c", config.toString()).code()).isEqualTo(2);
    assertThat(run("-c", config.toString()).code()).as("serve is the default command").isEqualTo(2);
  }

  @Test
  void aMissingFileIsAConfigError() {
    Result r = run("check", "-c", dir.resolve("nope.yaml").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("nope.yaml").contains("not found");
  }

  @Test
  void aUsageErrorExits2() {
    assertThat(run("--bogus").code()).isEqualTo(2);
    assertThat(run("backend").code()).as("--port is required").isEqualTo(2);
    assertThat(run("backend", "--port", "0").code()).isEqualTo(2);
  }

  @Test
  void aTakenPortExits1WithOneLineNamingTheAddress() throws IOException {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      serveIsRefusedOn(taken.getLocalPort());
    }
  }

  /** {@code serve} on a port another process holds: exit 1 with one line naming the address and saying why. */
  private void serveIsRefusedOn(int port) throws IOException {
    Path config = file("taken-" + port + ".yaml", """
        listen: { host: 127.0.0.1, port: %d }
        admin: { host: 127.0.0.1, port: 0 }
        backends: [ "http://127.0.0.1:9" ]
        """.formatted(port));
    Result r = run("serve", "-c", config.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().lines()).hasSize(1);
    assertThat(r.err()).startsWith("lb: cannot listen on 127.0.0.1:" + port + ": ");
    assertThat(r.err().toLowerCase()).contains("in use");
  }

  @Test
  void aPortAnotherLbListensOnExits1ThoughBothUseSoReusePort() throws Exception {
    LbConfig firstConfig = dev.lb.config.ConfigLoader.parse("""
        listen: { host: 127.0.0.1, port: 0, workers: 2 }
        admin: { host: 127.0.0.1, port: 0 }
        health_check: { enabled: false }
        backends: [ "http://127.0.0.1:9" ]
        """, java.util.Map.of());
    try (LbServer first = LbServer.start(firstConfig)) {
      serveIsRefusedOn(first.proxyAddress().getPort());
    }
  }

  @Test
  void aTakenAdminPortExits1() throws IOException {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      Path config = file("taken-admin.yaml", """
          listen: { host: 127.0.0.1, port: 0 }
          admin: { host: 127.0.0.1, port: %d }
          backends: [ "http://127.0.0.1:9" ]
          """.formatted(port));
      Result r = run("serve", "-c", config.toString());
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.err()).startsWith("lb: admin listener: cannot bind 127.0.0.1:" + port);
    }
  }
}
