package dev.lb.server.admin;

import dev.lb.backend.Backend;
import dev.lb.config.LbConfig;
import dev.lb.config.RouteConfig;
import dev.lb.config.UpstreamConfig;
import dev.lb.upstream.Upstreams;
import io.netty.handler.codec.http.HttpMethod;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * {@code GET /upstreams}: the backends grouped by upstream, in configuration order (the default upstream first), each
 * with its algorithm, its own rate limit, the routes that lead to it, its backends as {@code /backends} shows them,
 * and per DNS name the last answer, its time and the last error. A management endpoint; it reads volatile state only.
 */
public final class UpstreamsEndpoint {
  private UpstreamsEndpoint() {}

  public static AdminRouter.Builder register(AdminRouter.Builder routes, Supplier<LbConfig> config,
      Upstreams upstreams) {
    return routes.route(HttpMethod.GET, "/upstreams", Access.MANAGEMENT,
        request -> CompletableFuture.completedFuture(AdminResponse.json(200, describe(config.get(), upstreams))));
  }

  static List<Map<String, Object>> describe(LbConfig config, Upstreams upstreams) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (UpstreamConfig uc : config.allUpstreams()) {
      Map<String, Object> u = new LinkedHashMap<>();
      u.put("name", uc.name());
      u.put("algorithm", uc.balancing().algorithm().key());
      u.put("health_check", uc.healthCheck().enabled());
      u.put("rate_limit", uc.rateLimit() == null ? null
          : Map.of("capacity", uc.rateLimit().capacity(), "rate_per_sec", uc.rateLimit().ratePerSec()));
      List<Map<String, Object>> routeList = new ArrayList<>();
      for (int i = 0; i < config.routes().size(); i++) {
        RouteConfig r = config.routes().get(i);
        if (r.upstream().equals(uc.name())) {
          Map<String, Object> route = new LinkedHashMap<>();
          route.put("index", i);
          route.put("host", r.host());
          route.put("path_prefix", r.pathPrefix());
          route.put("strip_prefix", r.stripPrefix());
          routeList.add(route);
        }
      }
      u.put("routes", routeList);
      u.put("takes_unrouted", uc.name().equals(UpstreamConfig.DEFAULT));
      List<BackendsEndpoint.View> backends = new ArrayList<>();
      for (Backend b : upstreams.backends(uc.name())) {
        backends.add(BackendsEndpoint.View.of(b));
      }
      u.put("backends", backends);
      List<Map<String, Object>> dns = new ArrayList<>();
      upstreams.discovery(uc.name()).forEach((target, status) -> {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("target", target);
        d.putAll(status);
        dns.add(d);
      });
      u.put("dns", dns);
      out.add(u);
    }
    return out;
  }
}
