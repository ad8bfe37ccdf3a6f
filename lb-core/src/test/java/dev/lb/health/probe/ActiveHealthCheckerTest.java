package dev.lb.health.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.lb.backend.Backend;
import dev.lb.backend.BackendHealth;
import dev.lb.backend.HealthPolicy;
import dev.lb.config.BackendConfig;
import dev.lb.config.HealthCheckConfig;
import dev.lb.transport.Transport;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Active probes against real loopback servers. */
class ActiveHealthCheckerTest {
  private HttpServer server;
  private ExecutorService executor;
  private final AtomicInteger status = new AtomicInteger(200);
  private volatile long delayMillis;
  private final List<String> userAgents = new CopyOnWriteArrayList<>();
  private final List<String> paths = new CopyOnWriteArrayList<>();
  private final List<String> reportThreads = new CopyOnWriteArrayList<>();
  private ActiveHealthChecker checker;

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
    executor = Executors.newCachedThreadPool();
    server.setExecutor(executor);
    server.createContext("/", exchange -> {
      userAgents.add(exchange.getRequestHeaders().getFirst("User-Agent"));
      paths.add(exchange.getRequestURI().toString());
      try {
        Thread.sleep(delayMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      exchange.getResponseHeaders().add("Location", "/elsewhere");
      exchange.sendResponseHeaders(status.get(), -1);
      exchange.close();
    });
    server.start();
  }

  @AfterEach
  void stop() {
    if (checker != null) {
      checker.close();
    }
    server.stop(0);
    executor.shutdownNow();
  }

  private Backend backend(int port) {
    Backend b = new Backend(new BackendConfig("http://127.0.0.1:" + port, "127.0.0.1", port, 1),
        new BackendHealth(new HealthPolicy(true, 2, 2), Clock.systemUTC(), System::nanoTime));
    b.health().listener((h, s, r) -> reportThreads.add(Thread.currentThread().getName()));
    return b;
  }

  private void check(Backend... backends) {
    HealthCheckConfig config = new HealthCheckConfig(true, Duration.ZERO, "/healthz?deep=1",
        Duration.ofMillis(100), Duration.ofMillis(300), 2, 2);
    checker = new ActiveHealthChecker(List.of(backends), config, Transport.detect(), null);
    checker.start();
  }

  @Test
  void a2xxOr3xxAnswerPasses() {
    Backend b = backend(server.getAddress().getPort());
    check(b);
    await().atMost(Duration.ofSeconds(5)).until(() -> "status 200".equals(b.health().lastCheckResult()));
    assertThat(b.health().isHealthy()).isTrue();
    assertThat(paths).first().isEqualTo("/healthz?deep=1");
    assertThat(userAgents).first().isEqualTo("lb-health-check");
    status.set(302);
    await().atMost(Duration.ofSeconds(5)).until(() -> "status 302".equals(b.health().lastCheckResult()));
    assertThat(b.health().isHealthy()).isTrue();
  }

  @Test
  void a503TakesTheBackendOutAnd200sBringItBack() {
    Backend b = backend(server.getAddress().getPort());
    status.set(503);
    check(b);
    await().atMost(Duration.ofSeconds(5)).until(() -> !b.health().isHealthy());
    assertThat(b.health().stateReason()).isEqualTo("2 consecutive failing probes, the last: status 503");
    status.set(200);
    await().atMost(Duration.ofSeconds(5)).until(() -> b.health().isHealthy());
    assertThat(b.health().stateReason()).isEqualTo("2 consecutive passing probes (status 200)");
    assertThat(reportThreads).isNotEmpty().allSatisfy(t -> assertThat(t).startsWith("lb-health"));
  }

  @Test
  void aBackendInMaintenanceIsNotProbedAndComesBackThroughItsProbes() {
    Backend b = backend(server.getAddress().getPort());
    check(b);
    await().atMost(Duration.ofSeconds(10)).until(() -> paths.size() >= 2);
    b.health().admin(BackendHealth.Admin.MAINT, "test");
    // A probe under way when the state changed may still arrive: wait for the count to settle, then watch it.
    await().atMost(Duration.ofSeconds(10)).pollDelay(Duration.ofMillis(400)).until(() -> {
      int before = paths.size();
      Thread.sleep(600);
      return paths.size() == before;
    });
    int probed = paths.size();
    await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(() -> paths.size() == probed);

    b.health().admin(BackendHealth.Admin.READY, "test");
    assertThat(b.health().isHealthy()).isFalse();
    await().atMost(Duration.ofSeconds(10)).until(() -> b.health().isHealthy());
    assertThat(paths.size()).isGreaterThanOrEqualTo(probed + 2);
  }

  @Test
  void aRefusedConnectionFails() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Backend b = backend(port);
    check(b);
    await().atMost(Duration.ofSeconds(5)).until(() -> !b.health().isHealthy());
    assertThat(b.health().lastCheckResult()).isEqualTo("connection refused");
  }

  @Test
  void aSlowAnswerTimesOut() {
    delayMillis = 2_000;
    Backend b = backend(server.getAddress().getPort());
    check(b);
    await().atMost(Duration.ofSeconds(5)).until(() -> !b.health().isHealthy());
    assertThat(b.health().lastCheckResult()).isEqualTo("timeout after 300 ms");
  }
}
