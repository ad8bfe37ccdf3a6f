package dev.lb.server.admin;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendHealth;
import io.netty.handler.codec.http.HttpMethod;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * {@code GET /backends}: every backend with its health and load, in configuration order; and the operator's actions
 * on one, as HAProxy's {@code set server state} and the NGINX Plus API offer them: {@code POST /backends/{id}/drain}
 * (no new requests, those under way finish, probes go on), {@code POST /backends/{id}/maintenance} (no new requests,
 * no probes) and {@code POST /backends/{id}/ready} (back, through the healthy threshold after maintenance and through
 * slow start). {@code {id}} is the backend's URL as {@code /backends} shows it (percent-encoded), its {@code name}, or
 * its {@code host:port}. What is set lasts until the next reload or restart. Management endpoints: they need the admin
 * token, or a loopback caller when none is set. They read and set only volatile state, so they run on the admin event
 * loop.
 */
public final class BackendsEndpoint {
  private BackendsEndpoint() {}

  /**
   * One backend as the endpoint shows it (snake_case in JSON). {@code healthy} and {@code state} say whether it takes
   * traffic; {@code active} is what the active checks say ({@code up}, {@code down}, or {@code off}), with
   * {@code state_since} and {@code state_reason} about them; {@code ejected_until}, {@code ejections},
   * {@code consecutive_errors} and {@code last_error} are the passive signal, outlier detection;
   * {@code admin_state} ({@code ready}, {@code drain}, {@code maint}) and {@code admin_since} are the operator's
   * word, which {@code state} shows first when it is not {@code ready}. {@code scheme} is {@code http} or
   * {@code https}; for {@code https}, {@code tls} says which name is sent as SNI and verified, whether the certificate
   * is verified at all, and whether a client certificate is presented ({@code null} for {@code http}).
   */
  public record View(
      String url,
      String scheme,
      @Nullable Tls tls,
      String name,
      String upstream,
      boolean healthy,
      int weight,
      int activeRequests,
      int consecutiveFailures,
      @Nullable String lastCheck,
      String lastCheckResult,
      String state,
      String stateSince,
      String stateReason,
      String active,
      boolean ejected,
      @Nullable String ejectedUntil,
      int ejections,
      int consecutiveErrors,
      String lastError,
      int maxConnections,
      int openConnections,
      String adminState,
      String adminSince) {

    /** TLS to an {@code https} backend as configured. */
    public record Tls(String serverName, boolean verify, boolean clientCertificate) {}

    static View of(Backend b) {
      dev.lb.config.BackendTlsConfig t = b.tls();
      BackendHealth h = b.health();
      Instant lastCheck = h.lastCheck();
      Instant ejectedUntil = h.ejectedUntil();
      boolean tracked = h.policy().tracking();
      String active = !tracked ? "off" : h.activeUp() ? "up" : "down";
      BackendHealth.Admin admin = h.admin();
      return new View(
          b.url(),
          b.scheme(),
          t == null ? null : new Tls(b.tlsName(), t.client().verifies(), !t.clientCertFile().isEmpty()),
          b.name(),
          b.upstream(),
          h.isHealthy(),
          b.weight(),
          b.activeRequests(),
          h.consecutiveFailures(),
          lastCheck == null ? null : lastCheck.toString(),
          h.lastCheckResult(),
          admin != BackendHealth.Admin.READY ? admin.name().toLowerCase(Locale.ROOT)
              : !h.activeUp() ? "down" : h.ejected() ? "ejected" : "up",
          h.stateSince().toString(),
          h.stateReason(),
          active,
          h.ejected(),
          ejectedUntil == null ? null : ejectedUntil.toString(),
          h.ejections(),
          h.consecutiveErrors(),
          h.lastError(),
          b.maxConnections(),
          b.openConnections(),
          admin.name().toLowerCase(Locale.ROOT),
          h.adminSince().toString());
    }
  }

  public static AdminRouter.Builder register(AdminRouter.Builder routes, Supplier<List<Backend>> backends) {
    routes.route(HttpMethod.GET, "/backends", Access.MANAGEMENT, request -> {
      List<View> views = new ArrayList<>();
      for (Backend b : backends.get()) {
        views.add(View.of(b));
      }
      return CompletableFuture.completedFuture(AdminResponse.json(200, views));
    });
    action(routes, backends, "drain", BackendHealth.Admin.DRAIN);
    action(routes, backends, "maintenance", BackendHealth.Admin.MAINT);
    return action(routes, backends, "ready", BackendHealth.Admin.READY);
  }

  private static AdminRouter.Builder action(AdminRouter.Builder routes, Supplier<List<Backend>> backends, String verb,
      BackendHealth.Admin state) {
    return routes.route(HttpMethod.POST, "/backends/{id}/" + verb, Access.MANAGEMENT, request -> {
      String id = request.pathParam("id");
      Backend b = find(backends.get(), id);
      if (b == null) {
        throw AdminException.notFound("No backend with URL, name or host:port '" + id + "'");
      }
      b.health().admin(state, "POST /backends/" + id + "/" + verb + " from " + Audit.who(request));
      return CompletableFuture.completedFuture(AdminResponse.json(200, View.of(b)));
    });
  }

  /** The backend {@code id} names: its URL, its name, or its {@code host:port}; null when none does. */
  static @Nullable Backend find(List<Backend> backends, String id) {
    for (Backend b : backends) {
      if (b.url().equals(id) || (!b.name().isEmpty() && b.name().equals(id))) {
        return b;
      }
    }
    for (Backend b : backends) {
      String host = b.host().indexOf(':') >= 0 ? "[" + b.host() + "]" : b.host();
      if ((host + ":" + b.port()).equalsIgnoreCase(id)) {
        return b;
      }
    }
    return null;
  }
}
