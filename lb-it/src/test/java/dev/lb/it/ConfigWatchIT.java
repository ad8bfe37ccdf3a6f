package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lb.config.ConfigLoader;
import dev.lb.it.support.Ports;
import dev.lb.it.support.PrometheusText;
import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.TestBackend;
import dev.lb.it.support.TestBackends;
import dev.lb.server.LbServer;
import dev.lb.server.testing.LogCapture;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code config.watch}: lb reloads its file when the file changes on disk (an edit, a Kubernetes ConfigMap's symlink
 * swap), with SIGHUP's validation and log line; an invalid file is refused once and the running configuration stays;
 * a burst of writes is one reload. Real traffic shows which configuration runs.
 */
class ConfigWatchIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  @AutoClose private final TestBackends backends = new TestBackends();

  @TempDir Path dir;
  private TestBackend b1;
  private TestBackend b2;
  private TestBackend b3;
  private int port;
  private int adminPort;

  @BeforeEach
  void backends() throws Exception {
    b1 = backends.start("b1");
    b2 = backends.start("b2");
    b3 = backends.start("b3");
    port = Ports.freePort();
    adminPort = Ports.freePort();
  }

  private String yaml(String watch, TestBackend backend) {
    return ReloadIT.yaml(port, adminPort, watch, backend);
  }

  private static String watch(String interval, String debounce) {
    return "config: { watch: true, watch_interval: " + interval + ", watch_debounce: " + debounce + " }\n";
  }

  private static Lb start(Path file) throws Exception {
    return Lb.of(ConfigLoader.load(file), file);
  }

  private String servedBy() throws Exception {
    return servedBy(port);
  }

  /** The backend that answers {@code GET /} on a new connection to {@code port}. */
  static String servedBy(int port) throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(port)) {
      return client.get("/").readResponse().bodyString();
    }
  }

  private PrometheusText metrics() throws Exception {
    return PrometheusText.parse(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort
        + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body());
  }

  private double reloads(String result) throws Exception {
    return metrics().valueOrZero("lb_reloads_total{result=\"" + result + "\"}");
  }

  private JsonNode status() throws Exception {
    return JSON.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort
        + "/status?format=json")).build(), HttpResponse.BodyHandlers.ofString()).body()).path("lb");
  }

  private static List<String> messages(LogCapture log) {
    return log.events().stream().map(e -> e.getMessage().getFormattedMessage()).toList();
  }

  @Test
  void anEditIsReloadedWithSighupsLogLine() throws Exception {
    String watch = watch("100ms", "300ms");
    Path file = Files.writeString(dir.resolve("lb.yaml"), yaml(watch, b1));
    try (LogCapture log = LogCapture.of(LbServer.class, Level.INFO); Lb lb = start(file)) {
      assertThat(servedBy()).isEqualTo("b1");
      assertThat(status().path("config_watch").asBoolean()).isTrue();
      Files.writeString(file, yaml(watch, b2));
      await("b2 serves after the edit").atMost(WAIT).until(() -> servedBy().equals("b2"));
      assertThat(messages(log)).anyMatch(m -> m.startsWith("reload of " + file + ": 1 change(s): backends: [{url: "
          + b1.url()));
      assertThat(log.events()).filteredOn(e -> e.getMessage().getFormattedMessage().startsWith("reload of"))
          .allMatch(e -> e.getThreadName().equals("lb-config-watch"));
      assertThat(reloads("success")).isEqualTo(1);
      assertThat(status().path("config_generation").asLong()).isEqualTo(2);
      assertThat(status().path("last_reload").path("result").asText()).isEqualTo("applied");
    }
  }

  @Test
  void aConfigMapUpdateArrivesAsASymlinkSwapAndIsReloaded() throws Exception {
    // The kubelet's layout: lb.yaml -> ..data/lb.yaml, ..data -> ..<timestamp>; an update writes a new directory and
    // renames a new ..data symlink over the old one, then removes the old directory.
    String watch = watch("100ms", "300ms");
    Path first = Files.createDirectory(dir.resolve("..2026_12_07_10_00_00.1"));
    Files.writeString(first.resolve("lb.yaml"), yaml(watch, b1));
    Files.createSymbolicLink(dir.resolve("..data"), first.getFileName());
    Path file = Files.createSymbolicLink(dir.resolve("lb.yaml"), Path.of("..data/lb.yaml"));
    try (Lb lb = start(file)) {
      assertThat(servedBy()).isEqualTo("b1");
      Path second = Files.createDirectory(dir.resolve("..2026_12_07_10_01_00.2"));
      Files.writeString(second.resolve("lb.yaml"), yaml(watch, b2));
      Path swap = Files.createSymbolicLink(dir.resolve("..data_tmp"), second.getFileName());
      Files.move(swap, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      Files.delete(first.resolve("lb.yaml"));
      Files.delete(first);
      await("b2 serves after the swap").atMost(WAIT).until(() -> servedBy().equals("b2"));
      assertThat(reloads("success")).isEqualTo(1);
    }
  }

  @Test
  void anInvalidFileIsRefusedOnceAndTheRunningConfigurationStaysUntilItIsFixed() throws Exception {
    String watch = watch("100ms", "300ms");
    Path file = Files.writeString(dir.resolve("lb.yaml"), yaml(watch, b1));
    try (LogCapture log = LogCapture.of(LbServer.class, Level.INFO); Lb lb = start(file)) {
      Files.writeString(file, yaml(watch, b2).replace("port: " + port, "port: \"not a port\""));
      await("the refusal").atMost(WAIT).until(() -> reloads("failure") == 1);
      assertThat(messages(log)).anyMatch(m -> m.startsWith("reload of " + file
          + " refused, the running configuration stays:\n  listen.port: not a port (expected: an integer"));
      // Not tried again while the file stays as it is; the old configuration serves.
      await().during(Duration.ofSeconds(2)).atMost(WAIT).until(() -> servedBy().equals("b1"));
      assertThat(reloads("failure")).isEqualTo(1);
      assertThat(status().path("last_reload").path("result").asText()).isEqualTo("refused");

      Files.writeString(file, yaml(watch, b2));
      await("b2 serves once the file is fixed").atMost(WAIT).until(() -> servedBy().equals("b2"));
      assertThat(reloads("success")).isEqualTo(1);
    }
  }

  @Test
  void aBurstOfWritesIsOneReloadOfTheLastOfThem() throws Exception {
    // Looked at every 50 ms, so the watch sees several of the writes; applied once the file has been still for 2 s.
    String watch = watch("50ms", "2s");
    Path file = Files.writeString(dir.resolve("lb.yaml"), yaml(watch, b1));
    try (Lb lb = start(file)) {
      TestBackend[] order = {b2, b3, b1};
      for (int i = 0; i < 24; i++) {
        Files.writeString(file, yaml(watch, order[i % 3]) + "# write " + i + "\n");
        Thread.sleep(25);
      }
      // The last write names b1 (23 % 3 == 2): so write b3 last, to see the reload in traffic.
      Files.writeString(file, yaml(watch, b3));
      await("b3 serves after the burst").atMost(WAIT).until(() -> servedBy().equals("b3"));
      await("no second reload").during(Duration.ofSeconds(3)).atMost(WAIT).until(() -> reloads("success") == 1);
      assertThat(b2.requests()).as("no intermediate version was applied").isZero();
    }
  }

  @Test
  void withoutConfigWatchAnEditWaitsForAReloadWhichCanTurnTheWatchOn() throws Exception {
    Path file = Files.writeString(dir.resolve("lb.yaml"), yaml("", b1));
    try (Lb lb = start(file)) {
      assertThat(status().path("config_watch").asBoolean()).isFalse();
      Files.writeString(file, yaml(watch("100ms", "300ms"), b2));
      await("nothing reloads by itself").during(Duration.ofSeconds(3)).atMost(WAIT)
          .until(() -> servedBy().equals("b1"));
      assertThat(lb.server().reload(file).applied()).isTrue();
      assertThat(servedBy()).isEqualTo("b2");
      Files.writeString(file, yaml(watch("100ms", "300ms"), b3));
      await("the watch, now on, reloads the next edit").atMost(WAIT).until(() -> servedBy().equals("b3"));
      assertThat(reloads("success")).isEqualTo(2);
    }
  }
}
