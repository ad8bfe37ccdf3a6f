package dev.lb.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendHealth;
import dev.lb.backend.HealthPolicy;
import dev.lb.config.BackendConfig;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class StatusEndpointTest {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

  private Backend backend(String url) {
    java.net.URI u = java.net.URI.create(url);
    return new Backend(new BackendConfig(url, u.getHost(), u.getPort(), 1),
        new BackendHealth(new HealthPolicy(true, 1, 1), Clock.systemUTC(), nanos::get));
  }

  @Test
  void theStateSaysWhatKeepsABackendOutTheOperatorFirst() {
    Backend b = backend("http://10.0.0.1:80");
    assertThat(view(b).state()).isEqualTo("UP");
    b.health().probeFailed("connection refused");
    StatusEndpoint.BackendView down = view(b);
    assertThat(down.state()).isEqualTo("DOWN");
    assertThat(down.reason()).contains("connection refused");
    assertThat(down.checksFailed()).isEqualTo(1);
    assertThat(down.stateChanges()).isEqualTo(1);
    b.health().admin(BackendHealth.Admin.MAINT, "test");
    assertThat(view(b).state()).isEqualTo("MAINT");
    b.health().admin(BackendHealth.Admin.DRAIN, "test");
    assertThat(view(b).state()).isEqualTo("DRAIN");
  }

  @Test
  void slowStartProgressGrowsFromZeroToOne() {
    Backend b = backend("http://10.0.0.2:80");
    long ten = 10_000_000_000L;
    assertThat(StatusEndpoint.slowStart(b.health(), ten, nanos.get())).isEqualTo(1.0);
    b.health().probeFailed("connection refused");
    b.health().probePassed("status 200");
    assertThat(StatusEndpoint.slowStart(b.health(), ten, nanos.get())).isZero();
    assertThat(StatusEndpoint.slowStart(b.health(), ten, nanos.get() + ten / 4)).isEqualTo(0.25);
    assertThat(StatusEndpoint.slowStart(b.health(), ten, nanos.get() + 2 * ten)).isEqualTo(1.0);
    assertThat(StatusEndpoint.slowStart(b.health(), 0, nanos.get())).as("no slow start").isEqualTo(1.0);
  }

  @Test
  void busyConnectionsAreTheOpenOnesNotIdleAndUnknownWhenTheLoopsDidNotAnswer() {
    Backend b = backend("http://10.0.0.3:80");
    b.reserveConnection();
    b.reserveConnection();
    b.reserveConnection();
    StatusEndpoint.BackendView counted = StatusEndpoint.view(b, Map.of(b, 1), 0, Instant.now(), nanos.get());
    assertThat(counted.connections()).isEqualTo(new StatusEndpoint.Pool(2, 1, 0));
    StatusEndpoint.BackendView unknown = StatusEndpoint.view(b, null, 0, Instant.now(), nanos.get());
    assertThat(unknown.connections()).isEqualTo(new StatusEndpoint.Pool(null, null, 0));
  }

  @Test
  void csvQuotesWhatNeedsQuotingAndHasOneRowPerBackend() {
    Backend b = backend("http://10.0.0.4:80");
    b.health().probeFailed("odd, \"quoted\" reason");
    StatusEndpoint.Page page = new StatusEndpoint.Page("now", null, List.of(view(b), view(backend("http://x:1"))));
    String[] lines = StatusEndpoint.csv(page).split("\r\n");
    assertThat(lines).hasSize(3);
    assertThat(lines[0].split(",")).hasSameSizeAs(StatusEndpoint.CSV_COLUMNS.toArray());
    assertThat(lines[1]).startsWith("http://10.0.0.4:80,,default,DOWN,").contains("\"odd, \"\"quoted\"\" reason\"");
  }

  @Test
  void thePageLoadsNothingFromElsewhere() {
    String html = StatusEndpoint.html();
    assertThat(html).doesNotContainPattern("(src|href)\\s*=\\s*\"(https?:)?//");
    assertThat(html).doesNotContain("@import").doesNotContain("url(");
    assertThat(html).contains("status?format=json").contains("refresh");
    assertThat(html).as("data goes in as text, never as markup").doesNotContain("innerHTML");
  }

  private StatusEndpoint.BackendView view(Backend b) {
    return StatusEndpoint.view(b, Map.of(), 0, Instant.now(), nanos.get());
  }
}
