package dev.lb.proxy;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendGroup;
import dev.lb.balance.RoundRobinBalancer;
import dev.lb.balance.Routing;
import dev.lb.config.BackendConfig;
import dev.lb.config.LbConfig;
import dev.lb.log.AccessLog;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Settings for handler tests: the defaults, with short and distinct timeouts. */
final class TestSettings {
  static final long HEADER_TIMEOUT_MS = 1_000;
  static final long IDLE_TIMEOUT_MS = 5_000;
  static final long RESPONSE_TIMEOUT_MS = 3_000;

  private TestSettings() {}

  /** Round robin over {@code backends}. */
  static Routing routing(Backend... backends) {
    BackendGroup group = BackendGroup.of(List.of(backends));
    return new Routing(group, new RoundRobinBalancer().picker(group));
  }

  /** A context with {@link #settings(long) settings(0)}, round robin over {@code backends} and no access log. */
  static ProxyContext context(Backend... backends) {
    return new ProxyContext(settings(0), routing(backends), AccessLog.DISABLED);
  }

  static ProxySettings settings(long maxBodySize) {
    return settings(maxBodySize, IDLE_TIMEOUT_MS);
  }

  static ProxySettings settings(long maxBodySize, long idleTimeoutMs) {
    ProxySettings d = ProxySettings.from(LbConfig.withBackends(
        List.of(new BackendConfig("http://127.0.0.1:1", "127.0.0.1", 1, 1))));
    return new ProxySettings(
        d.connectTimeoutMillis(),
        TimeUnit.MILLISECONDS.toNanos(RESPONSE_TIMEOUT_MS),
        TimeUnit.MILLISECONDS.toNanos(idleTimeoutMs),
        TimeUnit.MILLISECONDS.toNanos(HEADER_TIMEOUT_MS),
        2,
        d.maxHeaderSize(),
        maxBodySize,
        d.poolIdleTimeoutNanos(),
        d.poolMaxIdle(),
        false,
        d.maxConnections());
  }
}
