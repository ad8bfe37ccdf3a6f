package dev.lb.stats;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TopClientsTest {

  @Test
  void aHeavyClientStaysOnTopAmongManyLightOnes() {
    TopClients top = new TopClients();
    for (int i = 0; i < 10_000; i++) {
      top.count("light-" + i);
      if (i % 10 == 0) {
        top.count("heavy");
      }
      if (i % 20 == 0) {
        top.count("medium");
      }
    }
    assertThat(top.top(2)).extracting(TopClients.Entry::client).containsExactly("heavy", "medium");
    // Space-saving never counts under the truth.
    assertThat(top.top(1).get(0).count()).isGreaterThanOrEqualTo(1_000);
  }

  @Test
  void countsAddUpAcrossSlotsAndLeaveAfterSix() {
    TopClients top = new TopClients();
    top.count("a");
    top.rotate();
    top.count("a");
    top.count("b");
    assertThat(top.top(10)).containsExactly(new TopClients.Entry("a", 2), new TopClients.Entry("b", 1));
    for (int i = 0; i < TopClients.SLOTS - 1; i++) {
      top.rotate();
    }
    assertThat(top.top(10)).containsExactly(new TopClients.Entry("a", 1), new TopClients.Entry("b", 1));
    top.rotate();
    assertThat(top.top(10)).isEmpty();
  }
}
