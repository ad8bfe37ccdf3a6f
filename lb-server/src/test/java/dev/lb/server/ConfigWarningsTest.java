package dev.lb.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.lb.config.ConfigLoader;
import dev.lb.config.LbConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Warnings about configurations that are valid but will not work, against real sockets. */
class ConfigWarningsTest {
  private HttpServer server;
  private final AtomicInteger status = new AtomicInteger(404);

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 10);
    server.createContext("/", exchange -> {
      exchange.sendResponseHeaders(status.get(), -1);
      exchange.close();
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private String up() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private static String refusing() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return "http://127.0.0.1:" + s.getLocalPort();
    }
  }

  private static LbConfig config(String backends, String healthCheck) throws Exception {
    return ConfigLoader.parse("health_check: {timeout: 2s" + healthCheck + "}\nbackends: " + backends + "\n",
        Map.of());
  }

  @Test
  void aHealthPathEveryBackendAnswers404OrRefusesIsNamed() throws Exception {
    assertThat(ConfigWarnings.of(config("[\"" + up() + "\", \"" + refusing() + "\"]", ""))).containsExactly(
        "health_check.path: /health: every backend answers 404 or refuses, so the active health check will mark"
            + " them all DOWN; set health_check.path to a path they answer with 2xx or 3xx, or health_check.enabled:"
            + " false");
    assertThat(ConfigWarnings.of(config("[\"" + up() + "\"]", ""))).singleElement().asString()
        .contains("every backend answers 404,");
  }

  @Test
  void oneBackendAnsweringTheHealthPathIsEnoughAndChecksOffProbeNothing() throws Exception {
    status.set(200);
    assertThat(ConfigWarnings.of(config("[\"" + up() + "\", \"" + refusing() + "\"]", ""))).isEmpty();
    status.set(404);
    assertThat(ConfigWarnings.of(config("[\"" + up() + "\"]", ", enabled: false"))).isEmpty();
  }

  @Test
  void everyBackendAtWeightZeroAndAHostThatDoesNotResolveAreNamed() throws Exception {
    status.set(200);
    assertThat(ConfigWarnings.of(config("[{url: \"" + up() + "\", weight: 0}, "
        + "{url: \"http://no-such-host.invalid:8080\", weight: 0}]", "")))
        .containsExactly("backends: every backend has weight 0, so no request can be sent anywhere (503s)",
            "backends[1].url: http://no-such-host.invalid:8080: the host name no-such-host.invalid does not resolve"
                + " (now); requests to it fail until it does");
  }

  @Test
  void anUpstreamNoRouteNamesAndAConfigurationThatAnswersOnly404AreNamed() throws Exception {
    LbConfig unreached = ConfigLoader.parse("""
        health_check: { enabled: false }
        backends: ["%s"]
        upstreams: { api: { backends: ["%s"] }, old: { backends: ["%s"] } }
        routes: [ { path_prefix: /api/, upstream: api } ]
        """.formatted(up(), up(), up()), Map.of());
    assertThat(ConfigWarnings.of(unreached)).containsExactly(
        "upstreams.old: no route names it, so no request reaches it");
    LbConfig only404 = ConfigLoader.parse("""
        health_check: { enabled: false }
        upstreams: { api: { backends: ["%s"] } }
        """.formatted(up()), Map.of());
    assertThat(ConfigWarnings.of(only404)).containsExactly(
        "upstreams.api: no route names it, so no request reaches it",
        "routes: there are none and no default upstream (top-level backends), so every request gets 404");
  }

  @Test
  void backendsWhoseCertificatesAreNotVerifiedAreNamed() throws Exception {
    LbConfig config = ConfigLoader.parse("""
        health_check: { enabled: false }
        backends: [ { url: "https://127.0.0.1:1", tls: { insecure_skip_verify: true } }, "https://127.0.0.1:2" ]
        upstreams:
          api:
            tls: { insecure_skip_verify: true }
            backends: [ "https://127.0.0.1:3", { dns: api.local, port: 443 } ]
        routes: [ { upstream: api } ]
        """, Map.of());
    assertThat(ConfigWarnings.of(config)).containsExactly(
        "backends: https://127.0.0.1:1: tls.insecure_skip_verify is true, so lb does not verify the backend's"
            + " certificate and anyone on the path can pose as it; use ca_file for a private CA",
        "upstreams.api.backends: https://127.0.0.1:3, dns:api.local:443: tls.insecure_skip_verify is true, so lb"
            + " does not verify the backend's certificate and anyone on the path can pose as it; use ca_file for a"
            + " private CA");
  }
}
