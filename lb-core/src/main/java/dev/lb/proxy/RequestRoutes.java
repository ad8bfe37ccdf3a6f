package dev.lb.proxy;

import dev.lb.pool.RawRequest;
import dev.lb.ratelimit.LimitRegistry;
import dev.lb.route.Route;
import dev.lb.upstream.Routes;
import dev.lb.upstream.Upstream;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/** The route of a request, read from its {@code Host} and target without copying either when it can. */
final class RequestRoutes {
  private RequestRoutes() {}

  /** The request's route: by its host and path when there are routes, else the one upstream's; null: none (404). */
  static @Nullable Route<Upstream> of(Routes routes, HttpRequest req) {
    Route<Upstream> only = routes.only();
    if (only != null) {
      return only;
    }
    if (req instanceof RawRequest && !((RawRequest) req).decoded()) {
      RawRequest raw = (RawRequest) req;
      return routes.lookup(raw.host(), raw.target());
    }
    return routes.lookup(req.headers().get(HttpHeaderNames.HOST), req.uri());
  }

  /**
   * The key of the bucket a request is counted in: the client's own key, or, for a client without a limit of its own
   * whose request goes to an upstream with a default limit of its own, the key of the client's bucket there.
   */
  static String bucketKey(Routes routes, HttpRequest req, String clientKey, Predicate<String> ownLimit) {
    if (!routes.upstreamLimits()) {
      return clientKey;
    }
    Route<Upstream> route = of(routes, req);
    if (route == null || route.upstream().rateLimit() == null || ownLimit.test(clientKey)) {
      return clientKey;
    }
    return LimitRegistry.scoped(clientKey, route.upstream().name());
  }
}
