package dev.lb.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.config.AdminConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code GET /metrics} over a real admin listener. */
class MetricsEndpointTest {

  /**
   * A gauge may read a file (the JVM's CPU load reads the cgroup's), so a scrape must not run on the admin event
   * loop; there the file read would fail this test through the build's blocking check.
   */
  @Test
  void aScrapeRunsOnTheBlockingExecutorNotTheEventLoop(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("value"), "42");
    AtomicReference<String> readOn = new AtomicReference<>();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Gauge.builder("from_a_file", () -> {
      readOn.set(Thread.currentThread().getName());
      try {
        return Double.parseDouble(Files.readString(file));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }).register(registry);
    ExecutorService blocking = Executors.newSingleThreadExecutor(task -> new Thread(task, "metrics-blocking"));
    AdminServer server = AdminServer.start(new AdminConfig("127.0.0.1", 0, ""),
        MetricsEndpoint.register(AdminRouter.builder(), registry).build(), blocking);
    try {
      HttpResponse<String> response = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.localAddress().getPort() + "/metrics"))
              .build(),
          BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("content-type")).hasValue(MetricsEndpoint.CONTENT_TYPE);
      assertThat(response.body()).contains("from_a_file 42.0");
      assertThat(readOn.get()).isEqualTo("metrics-blocking");
    } finally {
      server.close();
      blocking.shutdownNow();
      registry.close();
    }
  }
}
