package dev.lb.balance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendGroup;
import dev.lb.config.BackendConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RoundRobinBalancerTest {
  private static Backend backend(int port, int weight) {
    return new Backend(new BackendConfig("http://127.0.0.1:" + port, "127.0.0.1", port, weight));
  }

  private final Backend a = backend(1, 1);
  private final Backend b = backend(2, 5);
  private final Backend c = backend(3, 1);
  private final RoundRobinBalancer rr = new RoundRobinBalancer();

  private List<Backend> picks(BackendGroup group, int n, PickContext context) {
    List<Backend> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(rr.pick(group, context));
    }
    return out;
  }

  @Test
  void takesEachBackendInTurnIgnoringWeights() {
    assertThat(picks(BackendGroup.of(List.of(a, b, c)), 7, PickContext.FIRST_ATTEMPT))
        .containsExactly(a, b, c, a, b, c, a);
  }

  @Test
  void aRetrySkipsTriedBackendsAndTheTurnMovesPastTheOneItTook() {
    BackendGroup group = BackendGroup.of(List.of(a, b, c));
    assertThat(rr.pick(group, PickContext.FIRST_ATTEMPT)).isEqualTo(a);
    assertThat(rr.pick(group, Set.of(b)::contains)).isEqualTo(c);
    assertThat(rr.pick(group, PickContext.FIRST_ATTEMPT)).isEqualTo(a);
    assertThat(rr.pick(group, PickContext.FIRST_ATTEMPT)).isEqualTo(b);
    assertThat(rr.pick(group, Set.of(a, b, c)::contains)).isNull();
  }

  @Test
  void weightZeroTakesABackendOutOfRotation() {
    Backend drained = backend(4, 0);
    assertThat(picks(BackendGroup.of(List.of(a, drained, c)), 4, PickContext.FIRST_ATTEMPT))
        .containsExactly(a, c, a, c);
    assertThat(rr.pick(BackendGroup.of(List.of(drained)), PickContext.FIRST_ATTEMPT)).isNull();
  }

  @Test
  void anEmptyGroupGivesNothing() {
    assertThat(rr.pick(BackendGroup.of(List.of()), PickContext.FIRST_ATTEMPT)).isNull();
  }

  @Test
  void theTurnSurvivesCounterOverflow() throws Exception {
    var field = RoundRobinBalancer.class.getDeclaredField("next");
    field.setAccessible(true);
    ((java.util.concurrent.atomic.AtomicInteger) field.get(rr)).set(Integer.MAX_VALUE);
    BackendGroup group = BackendGroup.of(List.of(a, b, c));
    for (int i = 0; i < 5; i++) {
      assertThat(rr.pick(group, PickContext.FIRST_ATTEMPT)).isNotNull();
    }
  }
}
