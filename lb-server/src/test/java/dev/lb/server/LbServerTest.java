package dev.lb.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.lb.config.ConfigLoader;
import dev.lb.config.LbConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The wiring of both listeners, and the shape of a drain (the integration tests cover its details). */
class LbServerTest {
  private HttpServer backend;
  private LbServer server;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void startBackend() throws IOException {
    backend = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
    backend.setExecutor(Executors.newCachedThreadPool());
    backend.createContext("/", exchange -> {
      if (exchange.getRequestURI().getPath().equals("/stall")) {
        try {
          Thread.sleep(30_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      byte[] body = "backend".getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    backend.start();
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    backend.stop(0);
    ((java.util.concurrent.ExecutorService) backend.getExecutor()).shutdownNow();
  }

  private LbServer start(String extraYaml) throws Exception {
    LbConfig config = ConfigLoader.parse("""
        listen: { host: 127.0.0.1, port: 0, workers: 1 }
        admin: { host: 127.0.0.1, port: 0 }
        backends: [ "http://127.0.0.1:%d" ]
        logging: { access_log: false }
        %s
        """.formatted(backend.getAddress().getPort(), extraYaml), Map.of());
    server = LbServer.start(config);
    return server;
  }

  private HttpResponse<String> get(InetSocketAddress address, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + address.getPort() + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void bothListenersServe() throws Exception {
    start("");
    assertThat(server.proxyAddress().getPort()).isNotEqualTo(server.adminAddress().getPort());
    HttpResponse<String> proxied = get(server.proxyAddress(), "/hello");
    assertThat(proxied.statusCode()).isEqualTo(200);
    assertThat(proxied.body()).isEqualTo("backend");
    assertThat(get(server.adminAddress(), "/healthz").body()).isEqualTo("{\"status\":\"UP\"}");
    assertThat(get(server.adminAddress(), "/readyz").body()).isEqualTo("{\"status\":\"READY\"}");
    assertThat(server.ready()).isTrue();
  }

  @Test
  void aDrainWithNothingInFlightIsQuickAndStopsBothListeners() throws Exception {
    start("shutdown: { drain_delay: 0s, grace_period: 30s }");
    get(server.proxyAddress(), "/");
    long t0 = System.nanoTime();
    server.drainAndStop();
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
    assertThat(server.ready()).isFalse();
    server.awaitStopped();
    try (java.net.Socket ignored = new java.net.Socket()) {
      org.assertj.core.api.Assertions.assertThatThrownBy(
          () -> ignored.connect(server.proxyAddress(), 1000)).isInstanceOf(IOException.class);
    }
  }

  @Test
  void aSecondStopRequestCutsTheDrainShort() throws Exception {
    start("shutdown: { drain_delay: 20s, grace_period: 30s }");
    CompletableFuture<Void> first = CompletableFuture.runAsync(() -> {
      try {
        server.drainAndStop();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    org.awaitility.Awaitility.await().until(() -> !server.ready());
    server.drainAndStop();
    first.get(10, TimeUnit.SECONDS);
    server.awaitStopped();
  }
}
