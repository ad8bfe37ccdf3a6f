package dev.lb.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Limits by client, and an upstream's own default for the clients without one of their own. */
class LimitRegistryTest {
  private final Limit fallback = new Limit(100, 10);
  private final Limit own = new Limit(5, 1);
  private final Limit api = new Limit(50, 5);

  @Test
  void aKeyScopedToAnUpstreamWithItsOwnDefaultGetsThatDefault() {
    LimitRegistry r = new LimitRegistry(fallback, Map.of("vip", own));
    r.upstreamDefaults(Map.of("api", api));
    assertThat(r.limitOf(LimitRegistry.scoped("10.0.0.1", "api"))).isEqualTo(api);
    assertThat(r.limitOf(LimitRegistry.scoped("10.0.0.1", "web"))).as("an upstream without one").isEqualTo(fallback);
    assertThat(r.limitOf("10.0.0.1")).isEqualTo(fallback);
    assertThat(r.hasOwnLimit("vip")).isTrue();
    assertThat(r.hasOwnLimit("10.0.0.1")).isFalse();
  }

  @Test
  void changingTheUpstreamDefaultsChangesTheVersionOnlyWhenTheyDiffer() {
    LimitRegistry r = new LimitRegistry(fallback, Map.of());
    long v0 = r.version();
    r.upstreamDefaults(Map.of("api", api));
    long v1 = r.version();
    r.upstreamDefaults(Map.of("api", api));
    assertThat(v1).isGreaterThan(v0);
    assertThat(r.version()).isEqualTo(v1);
  }
}
