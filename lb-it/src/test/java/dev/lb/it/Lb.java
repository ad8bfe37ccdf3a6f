package dev.lb.it;

import static java.util.Objects.requireNonNull;

import dev.lb.config.ConfigLoader;
import dev.lb.config.LbConfig;
import dev.lb.it.support.TestBackend;
import dev.lb.server.LbServer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A balancer running in the test JVM, built from YAML the way an operator writes it: listeners on ephemeral loopback
 * ports, health checks off, and whatever keys a test sets on top.
 *
 * <pre>{@code
 * try (Lb lb = Lb.builder().workers(2).backends(b1, b2).set("proxy.response_timeout", "500ms").start()) { ... }
 * }</pre>
 */
final class Lb implements AutoCloseable {
  private final LbServer server;

  private Lb(LbServer server) {
    this.server = server;
  }

  static Builder builder() {
    return new Builder();
  }

  /** A balancer from a configuration read elsewhere (a file, for reload tests). */
  static Lb of(LbConfig config) throws Exception {
    return new Lb(LbServer.start(config));
  }

  /** A balancer from a configuration read from {@code file}, which {@code POST /reload} reads again. */
  static Lb of(LbConfig config, java.nio.file.Path file) throws Exception {
    return new Lb(LbServer.start(config, file));
  }

  LbServer server() {
    return server;
  }

  /** The proxy listener's port. */
  int port() {
    return server.proxyAddress().getPort();
  }

  int adminPort() {
    return server.adminAddress().getPort();
  }

  /** {@code GET /backends} from the admin listener (a loopback caller needs no token), parsed; asserts 200 JSON. */
  com.fasterxml.jackson.databind.JsonNode backendsJson() throws Exception {
    java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + adminPort() + "/backends"))
            .timeout(java.time.Duration.ofSeconds(10)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    org.assertj.core.api.Assertions.assertThat(r.statusCode()).isEqualTo(200);
    org.assertj.core.api.Assertions.assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
    return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body());
  }

  /** The entry of one backend in {@link #backendsJson()}. */
  com.fasterxml.jackson.databind.JsonNode backendJson(String url) throws Exception {
    for (com.fasterxml.jackson.databind.JsonNode n : backendsJson()) {
      if (n.path("url").asText().equals(url)) {
        return n;
      }
    }
    throw new AssertionError(url + " not in /backends");
  }

  /** Stops at once, without draining; harmless after {@link LbServer#drainAndStop()}. */
  @Override
  public void close() {
    server.close();
  }

  /** Configuration of a test balancer, written out as YAML and read by {@link ConfigLoader}. */
  static final class Builder {
    private final List<String> backends = new ArrayList<>();
    /** Section name to key to YAML scalar. */
    private final Map<String, Map<String, String>> sections = new LinkedHashMap<>();
    private final StringBuilder extra = new StringBuilder();

    private Builder() {
      set("listen.host", "127.0.0.1");
      set("listen.port", "0");
      set("listen.workers", "1");
      set("admin.host", "127.0.0.1");
      set("admin.port", "0");
      set("health_check.enabled", "false");
    }

    Builder workers(int workers) {
      return set("listen.workers", Integer.toString(workers));
    }

    Builder backend(String url) {
      backends.add("url: " + requireNonNull(url, "url"));
      return this;
    }

    Builder backend(String url, int weight) {
      backends.add("url: " + requireNonNull(url, "url") + "\n    weight: " + weight);
      return this;
    }

    /** A backend given as a YAML flow map, e.g. {@code {url: "http://127.0.0.1:8081", max_connections: 4}}. */
    Builder backendLine(String flowMap) {
      backends.add(requireNonNull(flowMap, "flowMap"));
      return this;
    }

    Builder backends(TestBackend... list) {
      for (TestBackend b : list) {
        backend(b.url());
      }
      return this;
    }

    /** Sets {@code section.key} to a YAML scalar, e.g. {@code set("proxy.response_timeout", "500ms")}. */
    Builder set(String path, String value) {
      int dot = path.indexOf('.');
      if (dot <= 0 || dot == path.length() - 1 || path.indexOf('.', dot + 1) >= 0) {
        throw new IllegalArgumentException("path " + path + " (expected: section.key)");
      }
      sections.computeIfAbsent(path.substring(0, dot), s -> new LinkedHashMap<>()).put(path.substring(dot + 1), value);
      return this;
    }

    /** Top-level YAML written as it is after the rest (for lists such as {@code routes}). */
    Builder yaml(String text) {
      extra.append(text).append('\n');
      return this;
    }

    String yaml() {
      StringBuilder yaml = new StringBuilder();
      sections.forEach((section, keys) -> {
        yaml.append(section).append(":\n");
        keys.forEach((key, value) -> yaml.append("  ").append(key).append(": ").append(value).append('\n'));
      });
      yaml.append("backends:\n");
      for (String backend : backends) {
        yaml.append("  - ").append(backend).append('\n');
      }
      return yaml.append(extra).toString();
    }

    LbConfig config() throws Exception {
      return ConfigLoader.parse(yaml(), Map.of());
    }

    Lb start() throws Exception {
      return new Lb(LbServer.start(config()));
    }
  }
}
