package dev.lb.config;

import java.time.Duration;

/** Where per-client limits are kept (a JDBC URL), and how often changes by other replicas are picked up. */
public record StoreConfig(String url, String username, String password, Duration pollInterval) {
  public static StoreConfig defaults() {
    return new StoreConfig("jdbc:h2:file:./data/lb", "", "", Duration.ofSeconds(5));
  }
}
