package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lb.it.support.Ports;
import dev.lb.it.support.PrometheusText;
import dev.lb.it.support.TestBackend;
import dev.lb.it.support.TestBackends;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jar started the ways that leave a signal ignored: under {@code nohup} (SIGHUP) and as a script's background job
 * (SIGINT, here through {@code env --ignore-signal=INT}). lb says at start what will not work and what to do
 * instead, shows it in {@code /config} and {@code /status}, and the other ways still work: {@code POST /reload}, the
 * file watch, SIGTERM.
 */
class SignalsIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  @AutoClose private final TestBackends backends = new TestBackends();

  @TempDir Path dir;

  private HttpResponse<String> admin(int adminPort, String method, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
        .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(20)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Starts the jar through {@code launcher} (after the default dispositions, where env can give them). */
  private JarProcess start(List<String> launcher, Path config) throws Exception {
    List<String> all = new ArrayList<>(JarProcess.DEFAULT_SIGNALS);
    all.addAll(launcher);
    return JarProcess.launch(dir, all, List.of(), "serve", "-c", config.toString());
  }

  @Test
  void underNohupLbSaysSighupWillNotReloadAndPostReloadAndTheFileWatchStillDo() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/nohup")) || Files.isExecutable(Path.of("/bin/nohup")),
        "nohup (coreutils)");
    TestBackend b1 = backends.start("b1");
    TestBackend b2 = backends.start("b2");
    TestBackend b3 = backends.start("b3");
    int port = Ports.freePort();
    int adminPort = Ports.freePort();
    String watch = "config: { watch: true, watch_interval: 200ms, watch_debounce: 500ms }\n";
    Path config = Files.writeString(dir.resolve("lb.yaml"), ReloadIT.yaml(port, adminPort, "", b1));
    try (JarProcess lb = start(List.of("nohup"), config)) {
      JarIT.awaitStatus(lb, adminPort, "/readyz", 200);
      assertThat(JarProcess.ignoredBy(lb.pid(), "HUP")).as("nohup left SIGHUP ignored in the JVM").isTrue();

      assertThat(lb.stdout()).as("the warning at start")
          .contains("SIGHUP is ignored in this process: it was ignored when lb started (nohup does that),"
              + " so kill -HUP will not reload the configuration: reload with POST /reload on the admin listener,"
              + " or set config.watch: true")
          .contains("env --default-signal=HUP,INT java -jar lb.jar");
      JsonNode signals = JSON.readTree(admin(adminPort, "GET", "/config").body()).path("signals");
      assertThat(signals.path("HUP").asText()).isEqualTo("ignored");
      assertThat(signals.path("TERM").asText()).isEqualTo("drain");
      JsonNode status = JSON.readTree(admin(adminPort, "GET", "/status?format=json").body()).path("lb");
      assertThat(status.path("signals").path("HUP").asText()).isEqualTo("ignored");
      assertThat(status.path("config_watch").asBoolean()).isFalse();

      // kill -HUP: nothing happens (the process neither reloads nor dies).
      Files.writeString(config, ReloadIT.yaml(port, adminPort, watch, b2));
      lb.signal("HUP");
      await("nothing after SIGHUP").during(Duration.ofSeconds(2)).atMost(WAIT)
          .until(() -> lb.isAlive() && ConfigWatchIT.servedBy(port).equals("b1"));

      // POST /reload does what SIGHUP would have done, and turns the watch on.
      HttpResponse<String> reload = admin(adminPort, "POST", "/reload");
      assertThat(reload.statusCode()).as(reload.body()).isEqualTo(200);
      assertThat(JSON.readTree(reload.body()).path("result").asText()).isEqualTo("applied");
      assertThat(ConfigWatchIT.servedBy(port)).isEqualTo("b2");

      // The file watch reloads an edit with no signal at all.
      Files.writeString(config, ReloadIT.yaml(port, adminPort, watch, b3));
      await("the watch reloads the edit").atMost(WAIT).until(() -> ConfigWatchIT.servedBy(port).equals("b3"));
      PrometheusText metrics = PrometheusText.parse(admin(adminPort, "GET", "/metrics").body());
      assertThat(metrics.value("lb_reloads_total{result=\"success\"}")).isEqualTo(2);
      assertThat(JSON.readTree(admin(adminPort, "GET", "/status?format=json").body()).path("lb")
          .path("config_watch").asBoolean()).isTrue();
      assertThat(lb.stdout()).contains("[lb-config-watch] LbServer - reload of " + config + ": 1 change(s): backends:");

      lb.terminate();
      assertThat(lb.waitFor(WAIT)).as("exit code after SIGTERM; %s", lb).isZero();
      lb.assertNoLeaks();
    }
  }

  @Test
  void asABackgroundJobCtrlCDoesNotStopLbAndSigtermDrains() throws Exception {
    assumeTrue(JarProcess.envSupports("--ignore-signal=INT"), "env --ignore-signal (coreutils 8.31+)");
    assumeTrue(ProcessHandle.current().supportsNormalTermination(), "SIGTERM through Process.destroy()");
    TestBackend b1 = backends.start("b1");
    int port = Ports.freePort();
    int adminPort = Ports.freePort();
    Path config = Files.writeString(dir.resolve("lb.yaml"), ReloadIT.yaml(port, adminPort, "", b1));
    try (JarProcess lb = start(List.of("env", "--ignore-signal=INT"), config)) {
      JarIT.awaitStatus(lb, adminPort, "/readyz", 200);
      assertThat(JarProcess.ignoredBy(lb.pid(), "INT")).isTrue();
      assertThat(lb.stdout())
          .contains("SIGINT is ignored in this process: it was ignored when lb started (a background job of a script"
              + " gets that), so Ctrl-C and kill -INT will not stop lb: stop it with SIGTERM")
          .doesNotContain("SIGHUP is ignored");
      JsonNode signals = JSON.readTree(admin(adminPort, "GET", "/config").body()).path("signals");
      assertThat(signals.path("INT").asText()).isEqualTo("ignored");
      if (!JarProcess.DEFAULT_SIGNALS.isEmpty()) {
        assertThat(signals.path("HUP").asText()).isEqualTo("reload");
      }

      lb.signal("INT");
      await("still serving after SIGINT").during(Duration.ofSeconds(2)).atMost(WAIT)
          .until(() -> lb.isAlive() && ConfigWatchIT.servedBy(port).equals("b1"));
      lb.terminate();
      assertThat(lb.waitFor(WAIT)).as("exit code after SIGTERM; %s", lb).isZero();
      assertThat(lb.stdout()).contains("draining:").contains("stopped");
      lb.assertNoLeaks();
    }
  }

  @Test
  void withDefaultDispositionsEverySignalIsHandledAndNothingIsSaid() throws Exception {
    JarProcess.assumeSignalReachesTheJar("HUP");
    JarProcess.assumeSignalReachesTheJar("INT");
    TestBackend b1 = backends.start("b1");
    int port = Ports.freePort();
    int adminPort = Ports.freePort();
    Path config = Files.writeString(dir.resolve("lb.yaml"), ReloadIT.yaml(port, adminPort, "", b1));
    try (JarProcess lb = start(List.of(), config)) {
      JarIT.awaitStatus(lb, adminPort, "/readyz", 200);
      JsonNode signals = JSON.readTree(admin(adminPort, "GET", "/config").body()).path("signals");
      assertThat(JSON.writeValueAsString(signals)).isEqualTo("{\"TERM\":\"drain\",\"INT\":\"drain\",\"HUP\":\"reload\"}");
      assertThat(lb.stdout()).doesNotContain("is ignored in this process");
      lb.signal("INT");
      assertThat(lb.waitFor(WAIT)).as("exit code after SIGINT; %s", lb).isZero();
      lb.assertNoLeaks();
    }
  }
}
