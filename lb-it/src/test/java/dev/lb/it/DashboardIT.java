package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lb.config.ConfigLoader;
import dev.lb.it.support.PrometheusText;
import dev.lb.it.support.TestBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every metric the Grafana dashboard queries is one a running lb exports, by its exact name, checked against a real
 * scrape of {@code /metrics} after traffic, a 429, a health check and a reload have made every series appear.
 */
class DashboardIT {
  /** Meters of the cluster-wide rate limit: a scrape has them only with {@code scope: cluster}. */
  private static final Pattern CLUSTER_ONLY = Pattern.compile("lb_ratelimit_(mode|redis_|tokens_)");
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  @AutoClose private final TestBackend backend = TestBackend.start("b1");
  @TempDir Path dir;

  private HttpResponse<String> send(URI uri, String method) throws Exception {
    return http.send(HttpRequest.newBuilder(uri).method(method, HttpRequest.BodyPublishers.noBody())
        .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void everyMetricTheDashboardQueriesIsInARealScrape() throws Exception {
    String redis = dev.lb.server.testing.TestRedis.urlOrNull();
    Path file = dir.resolve("lb.yaml");
    Files.writeString(file, "listen: {host: 127.0.0.1, port: 0}\nadmin: {host: 127.0.0.1, port: 0}\n"
        + "health_check: {enabled: true, interval: 200ms}\n"
        + "rate_limit: {enabled: true, default: {capacity: 2, rate_per_sec: 0.1}"
        // The cluster scope's meters (the dashboard's Redis panels) exist only with Redis; without one they are
        // the names allowed to be missing.
        + (redis == null ? "" : ", scope: cluster, redis: {url: \"" + redis + "\", timeout: 2s}") + "}\n"
        + "store: {url: \"jdbc:h2:mem:dash-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1\"}\n"
        + "backends: [\"" + backend.url() + "\"]\n");
    try (Lb lb = Lb.of(ConfigLoader.load(file), file)) {
      URI proxy = URI.create("http://127.0.0.1:" + lb.port() + "/");
      for (int i = 0; i < 3; i++) {
        send(proxy, "GET");
      }
      assertThat(send(proxy, "GET").statusCode()).as("the limit is spent").isEqualTo(429);
      assertThat(send(URI.create("http://127.0.0.1:" + lb.adminPort() + "/reload"), "POST").statusCode())
          .isEqualTo(200);
      URI metrics = URI.create("http://127.0.0.1:" + lb.adminPort() + "/metrics");
      // The collector's pause timer appears at the first collection, as it does in a running lb.
      System.gc();
      await().atMost(Duration.ofSeconds(20)).until(() -> {
        Set<String> series = PrometheusText.parse(send(metrics, "GET").body()).samples().keySet();
        return series.stream().anyMatch(s -> s.startsWith("lb_health_checks_total"))
            && series.stream().anyMatch(s -> s.startsWith("jvm_gc_pause_seconds_sum"));
      });
      Set<String> scraped = new TreeSet<>();
      for (String series : PrometheusText.parse(send(metrics, "GET").body()).samples().keySet()) {
        int brace = series.indexOf('{');
        scraped.add(brace < 0 ? series : series.substring(0, brace));
      }

      List<DeployFiles.Node> expressions = new ArrayList<>();
      DeploymentFilesTest.collectQueries(DeployFiles.json("config/grafana/lb-dashboard.json"), expressions);
      List<String> missing = new ArrayList<>();
      for (DeployFiles.Node expression : expressions) {
        for (String name : DeploymentFilesTest.metricNames(expression.text())) {
          // A __name__ matcher is a regular expression: some scraped name must match it whole.
          Pattern p = Pattern.compile(name);
          if (scraped.stream().noneMatch(s -> p.matcher(s).matches())
              && !(redis == null && CLUSTER_ONLY.matcher(name).lookingAt())) {
            missing.add(expression.where() + ": " + name);
          }
        }
      }
      assertThat(missing).as("dashboard metrics not in a scrape of lb (scraped: %s)", scraped).isEmpty();
    }
  }
}
