package dev.lb.server;

import dev.lb.config.BackendConfig;
import dev.lb.config.HealthCheckConfig;
import dev.lb.config.IpAddresses;
import dev.lb.config.LbConfig;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What is valid in a configuration but will not work as meant, found by looking at the backends themselves: every
 * backend at weight 0, a backend host name that does not resolve, and a health path that every backend answers with
 * 404 or refuses (they would all be marked DOWN). {@code check} prints these as warnings; {@code serve} logs them once
 * after start, from a thread of its own. Nothing here fails a start: a backend may come up later.
 *
 * <p>Blocking (name lookups, one {@code GET} of the health path per backend): never on an event loop.
 */
final class ConfigWarnings {
  private ConfigWarnings() {}

  static List<String> of(LbConfig config) {
    List<String> out = new ArrayList<>();
    List<BackendConfig> backends = config.backends();
    if (!backends.isEmpty() && backends.stream().allMatch(b -> b.weight() == 0)) {
      out.add("backends: every backend has weight 0, so no request can be sent anywhere (503s)");
    }
    List<BackendConfig> resolved = new ArrayList<>();
    for (int i = 0; i < backends.size(); i++) {
      BackendConfig b = backends.get(i);
      if (IpAddresses.bytes(b.host()) == null) {
        try {
          InetAddress.getAllByName(b.host());
        } catch (UnknownHostException e) {
          out.add("backends[" + i + "].url: " + b.url() + ": the host name " + b.host()
              + " does not resolve (now); requests to it fail until it does");
          continue;
        }
      }
      resolved.add(b);
    }
    routing(config, out);
    unverified(config, out);
    HealthCheckConfig health = config.healthCheck();
    if (health.enabled() && !resolved.isEmpty()) {
      String probe = probeAll(resolved, health);
      if (probe != null) {
        out.add("health_check.path: " + health.path() + ": every backend " + probe + ", so the active health check"
            + " will mark them all DOWN; set health_check.path to a path they answer with 2xx or 3xx, or"
            + " health_check.enabled: false");
      }
    }
    return out;
  }

  /** Upstreams no request can reach, and configurations where every request gets 404. */
  private static void routing(LbConfig config, List<String> out) {
    java.util.Set<String> routed = new java.util.HashSet<>();
    config.routes().forEach(r -> routed.add(r.upstream()));
    for (dev.lb.config.UpstreamConfig u : config.upstreams()) {
      if (!routed.contains(u.name()) && !u.name().equals(dev.lb.config.UpstreamConfig.DEFAULT)) {
        out.add("upstreams." + u.name() + ": no route names it, so no request reaches it");
      }
    }
    boolean hasDefault = config.allUpstreams().stream()
        .anyMatch(u -> u.name().equals(dev.lb.config.UpstreamConfig.DEFAULT));
    if (config.routes().isEmpty() && !hasDefault) {
      out.add("routes: there are none and no default upstream (top-level backends), so every request gets 404");
    }
  }

  /** TLS backends whose certificates are not verified ({@code insecure_skip_verify: true}). */
  private static void unverified(LbConfig config, List<String> out) {
    for (dev.lb.config.UpstreamConfig u : config.allUpstreams()) {
      String where = u.name().equals(dev.lb.config.UpstreamConfig.DEFAULT) && config.upstreams().stream()
          .noneMatch(n -> n.name().equals(u.name())) ? "backends" : "upstreams." + u.name() + ".backends";
      List<String> names = new ArrayList<>();
      u.backends().stream().filter(b -> b.tls() != null && b.tls().insecureSkipVerify())
          .forEach(b -> names.add(b.url()));
      u.dns().stream().filter(d -> d.tls() != null && d.tls().insecureSkipVerify())
          .forEach(d -> names.add(d.describe()));
      if (!names.isEmpty()) {
        out.add(where + ": " + String.join(", ", names) + ": tls.insecure_skip_verify is true, so lb does not verify"
            + " the backend's certificate and anyone on the path can pose as it; use ca_file for a private CA");
      }
    }
  }

  /** What every backend answered to the health path when all answered 404 or refused; null otherwise. */
  private static @Nullable String probeAll(List<BackendConfig> backends, HealthCheckConfig health) {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(health.timeout()).build();
    int notFound = 0;
    int refused = 0;
    for (BackendConfig b : backends) {
      try {
        HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(b.url() + health.path()))
            .timeout(health.timeout()).header("User-Agent", "lb-check").build(), HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() != 404) {
          return null;
        }
        notFound++;
      } catch (ConnectException e) {
        refused++;
      } catch (HttpTimeoutException e) {
        return null; // slow is not wrong: the health check's own timeout decides
      } catch (IOException | IllegalArgumentException e) {
        return null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }
    return refused == 0 ? "answers 404" : notFound == 0 ? "refuses connections" : "answers 404 or refuses";
  }
}
