package dev.lb.server.testing;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import org.junit.jupiter.api.Assumptions;

/**
 * The Redis tests use: {@code LB_TEST_REDIS_URL} (as {@code .ci/run} sets it), else the local default. A test class
 * calls {@link #urlOrAbort()} first and is skipped, with the reason, where none answers.
 */
public final class TestRedis {
  private TestRedis() {}

  /** The URL of a Redis that accepts connections; aborts the calling test (skipped) when none does. */
  public static String urlOrAbort() {
    String url = url();
    String why = unreachable(url);
    if (why != null) {
      Assumptions.abort("no Redis at " + url + " (set LB_TEST_REDIS_URL): " + why);
    }
    return url;
  }

  /** The URL of a Redis that accepts connections, or null when none does. */
  public static @org.jspecify.annotations.Nullable String urlOrNull() {
    String url = url();
    return unreachable(url) == null ? url : null;
  }

  private static String url() {
    String env = System.getenv("LB_TEST_REDIS_URL");
    return env == null || env.isBlank() ? "redis://127.0.0.1:6379" : env;
  }

  private static @org.jspecify.annotations.Nullable String unreachable(String url) {
    URI uri = URI.create(url);
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(uri.getHost(), uri.getPort() < 0 ? 6379 : uri.getPort()), 1000);
      return null;
    } catch (Exception e) {
      return String.valueOf(e.getMessage());
    }
  }
}
