package dev.lb.proxy;

import dev.lb.config.BackendConfig;
import dev.lb.config.LbConfig;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Settings for handler tests: the defaults, with short and distinct timeouts. */
final class TestSettings {
  static final long HEADER_TIMEOUT_MS = 1_000;
  static final long IDLE_TIMEOUT_MS = 5_000;
  static final long RESPONSE_TIMEOUT_MS = 3_000;

  private TestSettings() {}

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
