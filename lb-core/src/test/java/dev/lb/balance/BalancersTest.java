package dev.lb.balance;

import static dev.lb.balance.Contexts.backend;
import static dev.lb.balance.Contexts.fresh;
import static dev.lb.balance.Contexts.group;
import static dev.lb.balance.Contexts.kill;
import static dev.lb.balance.Contexts.revive;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendGroup;
import dev.lb.config.Algorithm;
import dev.lb.config.BalancingConfig;
import dev.lb.config.KeySource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every algorithm's exact picks, with weights, ties, retries, and backends leaving and returning. */
class BalancersTest {
  private final Backend a = backend(1, 1);
  private final Backend b = backend(2, 1);
  private final Backend c = backend(3, 1);

  private static List<Backend> picks(Picker picker, int n) {
    List<Backend> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(picker.pick(fresh()));
    }
    return out;
  }

  /** A random source that returns these numbers in order (each must be below the bound asked). */
  private static IntUnaryOperator scripted(int... values) {
    Deque<Integer> queue = new ArrayDeque<>();
    for (int v : values) {
      queue.add(v);
    }
    return bound -> {
      int v = queue.isEmpty() ? 0 : queue.poll();
      assertThat(v).isLessThan(bound);
      return v;
    };
  }

  @ParameterizedTest
  @EnumSource(Algorithm.class)
  void everyAlgorithmRespectsHealthAndReturnsNothingWhenAllAreOut(Algorithm algorithm) {
    LoadBalancer lb = LoadBalancers.create(new BalancingConfig(algorithm, KeySource.CLIENT_ADDRESS));
    kill(b);
    Picker picker = lb.picker(group(a, b, c));
    for (int i = 0; i < 300; i++) {
      assertThat(picker.pick(fresh().client("10.0.0." + i))).isIn(a, c);
    }
    kill(a);
    kill(c);
    assertThat(lb.picker(group(a, b, c)).pick(fresh())).isNull();
    revive(b);
    Picker back = lb.picker(group(a, b, c));
    for (int i = 0; i < 50; i++) {
      assertThat(back.pick(fresh().client("10.0.1." + i))).isEqualTo(b);
    }
  }

  @ParameterizedTest
  @EnumSource(Algorithm.class)
  void everyAlgorithmSkipsTriedBackendsOnRetry(Algorithm algorithm) {
    LoadBalancer lb = LoadBalancers.create(new BalancingConfig(algorithm, KeySource.CLIENT_ADDRESS));
    Picker picker = lb.picker(group(a, b, c));
    for (int i = 0; i < 100; i++) {
      assertThat(picker.pick(fresh().client("10.0.0." + i).excluding(a, c))).isEqualTo(b);
      assertThat(picker.pick(fresh().client("10.0.0." + i).excluding(a, b, c))).isNull();
    }
  }

  @ParameterizedTest
  @EnumSource(Algorithm.class)
  void weightZeroIsNeverPicked(Algorithm algorithm) {
    LoadBalancer lb = LoadBalancers.create(new BalancingConfig(algorithm, KeySource.CLIENT_ADDRESS));
    Backend drained = backend(9, 0);
    Picker picker = lb.picker(group(a, drained, c));
    for (int i = 0; i < 200; i++) {
      assertThat(picker.pick(fresh().client("10.0.0." + i))).isNotSameAs(drained).isNotNull();
    }
  }

  @Nested
  class RoundRobin {
    @Test
    void takesEachBackendInTurnIgnoringWeights() {
      Backend heavy = backend(4, 5);
      assertThat(picks(new RoundRobinBalancer().picker(group(a, heavy, c)), 7))
          .containsExactly(a, heavy, c, a, heavy, c, a);
    }

    @Test
    void aRetryMovesTheTurnPastTheBackendItTook() {
      Picker rr = new RoundRobinBalancer().picker(group(a, b, c));
      assertThat(rr.pick(fresh())).isEqualTo(a);
      assertThat(rr.pick(fresh().excluding(b))).isEqualTo(c);
      assertThat(picks(rr, 3)).containsExactly(a, b, c);
    }

    @Test
    void theTurnSurvivesAChangeOfBackendsAndCounterOverflow() throws Exception {
      RoundRobinBalancer balancer = new RoundRobinBalancer();
      assertThat(balancer.picker(group(a, b, c)).pick(fresh())).isEqualTo(a);
      assertThat(balancer.picker(group(a, b, c)).pick(fresh())).isEqualTo(b);
      var field = RoundRobinBalancer.class.getDeclaredField("next");
      field.setAccessible(true);
      ((java.util.concurrent.atomic.AtomicInteger) field.get(balancer)).set(Integer.MAX_VALUE);
      Picker rr = balancer.picker(group(a, b, c));
      for (int i = 0; i < 5; i++) {
        assertThat(rr.pick(fresh())).isNotNull();
      }
    }
  }

  @Nested
  class WeightedRoundRobin {
    @Test
    void weights511GiveNginxsSmoothSequence() {
      Backend heavy = backend(4, 5);
      Picker wrr = new WeightedRoundRobinBalancer().picker(group(heavy, b, c));
      assertThat(picks(wrr, 14)).containsExactly(
          heavy, heavy, b, heavy, c, heavy, heavy, heavy, heavy, b, heavy, c, heavy, heavy);
    }

    @Test
    void sharesFollowWeightsExactlyOverAPeriod() {
      Backend w3 = backend(4, 3);
      Backend w2 = backend(5, 2);
      Map<Backend, Integer> counts = new HashMap<>();
      for (Backend x : picks(new WeightedRoundRobinBalancer().picker(group(w3, w2, a)), 600)) {
        counts.merge(x, 1, Integer::sum);
      }
      assertThat(counts).containsEntry(w3, 300).containsEntry(w2, 200).containsEntry(a, 100);
    }

    @Test
    void equalWeightsAreRoundRobin() {
      assertThat(picks(new WeightedRoundRobinBalancer().picker(group(a, b, c)), 6))
          .containsExactly(a, b, c, a, b, c);
    }

    @Test
    void aBackendThatLeavesIsSkippedAndTheOthersKeepTheirProportions() {
      Backend heavy = backend(4, 2);
      WeightedRoundRobinBalancer balancer = new WeightedRoundRobinBalancer();
      kill(b);
      Map<Backend, Integer> counts = new HashMap<>();
      for (Backend x : picks(balancer.picker(group(heavy, b, c)), 300)) {
        counts.merge(x, 1, Integer::sum);
      }
      assertThat(counts).containsOnlyKeys(heavy, c).containsEntry(heavy, 200).containsEntry(c, 100);
    }
  }

  @Nested
  class LeastConnections {
    @Test
    void picksTheBackendWithFewestActiveRequests() {
      Picker lc = new LeastConnectionsBalancer().picker(group(a, b, c));
      a.requestStarted();
      a.requestStarted();
      c.requestStarted();
      assertThat(lc.pick(fresh())).isEqualTo(b);
      b.requestStarted();
      b.requestStarted();
      assertThat(lc.pick(fresh())).isEqualTo(c);
      release(a, 2);
      release(b, 2);
      release(c, 1);
    }

    @Test
    void tiesAreBrokenInTurn() {
      assertThat(picks(new LeastConnectionsBalancer().picker(group(a, b, c)), 6))
          .containsExactly(a, b, c, a, b, c);
    }

    @Test
    void loadIsWeighed() {
      Backend big = backend(4, 4);
      Picker lc = new LeastConnectionsBalancer().picker(group(big, a));
      for (int i = 0; i < 3; i++) {
        big.requestStarted();
      }
      // 3 active on weight 4 is less loaded than 1 on weight 1.
      a.requestStarted();
      assertThat(lc.pick(fresh())).isEqualTo(big);
      release(big, 3);
      release(a, 1);
    }

    private void release(Backend x, int n) {
      for (int i = 0; i < n; i++) {
        x.requestEnded();
      }
    }
  }

  @Nested
  class Random {
    @Test
    void drawsByWeight() {
      Backend w2 = backend(4, 2);
      // cumulative weights: a=1, w2=3, c=4; draws 0 -> a, 1..2 -> w2, 3 -> c
      Picker random = new RandomBalancer(scripted(0, 1, 2, 3)).picker(group(a, w2, c));
      assertThat(picks(random, 4)).containsExactly(a, w2, w2, c);
    }

    @Test
    void aRetryDrawsAgainAmongUntried() {
      Picker random = new RandomBalancer(scripted(0, 0, 0, 0, 1)).picker(group(a, b, c));
      // four draws of a (tried), then a draw among b and c by weight: 1 -> c
      assertThat(random.pick(fresh().excluding(a))).isEqualTo(c);
    }

    @Test
    void spreadsEvenlyOverManyPicks() {
      Map<Backend, Integer> counts = new HashMap<>();
      for (Backend x : picks(new RandomBalancer().picker(group(a, b, c)), 30_000)) {
        counts.merge(x, 1, Integer::sum);
      }
      assertThat(counts.values()).allSatisfy(n -> assertThat(n).isBetween(9_000, 11_000));
    }
  }

  @Nested
  class PowerOfTwo {
    @Test
    void theLessLoadedOfTwoDrawsWins() {
      Picker p2 = new PowerOfTwoBalancer(scripted(0, 2)).picker(group(a, b, c));
      a.requestStarted();
      assertThat(p2.pick(fresh())).isEqualTo(c);
      a.requestEnded();
    }

    @Test
    void onATieTheFirstDrawWins() {
      assertThat(new PowerOfTwoBalancer(scripted(1, 2)).picker(group(a, b, c)).pick(fresh())).isEqualTo(b);
    }

    @Test
    void drawsTwoDistinctBackends() {
      // second draw repeats the first (1), then 0: a and b are compared, b is busier
      b.requestStarted();
      assertThat(new PowerOfTwoBalancer(scripted(1, 1, 0)).picker(group(a, b, c)).pick(fresh())).isEqualTo(a);
      b.requestEnded();
    }

    @Test
    void aSingleBackendIsPickedWithoutASecondDraw() {
      assertThat(new PowerOfTwoBalancer(scripted(0)).picker(group(a)).pick(fresh())).isEqualTo(a);
    }
  }

  @Nested
  class ConsistentHash {
    private final List<Backend> ten = new ArrayList<>();

    ConsistentHash() {
      for (int i = 0; i < 10; i++) {
        ten.add(backend(8000 + i, 1));
      }
    }

    private Map<String, Backend> assign(Picker picker, int keys) {
      Map<String, Backend> out = new HashMap<>();
      for (int i = 0; i < keys; i++) {
        String key = "10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255);
        out.put(key, picker.pick(fresh().client(key)));
      }
      return out;
    }

    @Test
    void aKeyAlwaysGoesToTheSameBackend() {
      Picker ch = new ConsistentHashBalancer(KeySource.CLIENT_ADDRESS).picker(group(a, b, c));
      Backend first = ch.pick(fresh().client("198.51.100.7"));
      for (int i = 0; i < 20; i++) {
        assertThat(ch.pick(fresh().client("198.51.100.7"))).isEqualTo(first);
      }
      Picker rebuilt = new ConsistentHashBalancer(KeySource.CLIENT_ADDRESS).picker(group(a, b, c));
      assertThat(rebuilt.pick(fresh().client("198.51.100.7"))).isEqualTo(first);
    }

    @Test
    void keysSpreadOverAllBackendsFairly() {
      Map<Backend, Integer> counts = new HashMap<>();
      Picker ch = new ConsistentHashBalancer(KeySource.CLIENT_ADDRESS).picker(BackendGroup.of(ten));
      assign(ch, 10_000).values().forEach(x -> counts.merge(x, 1, Integer::sum));
      assertThat(counts).hasSize(10);
      assertThat(counts.values()).allSatisfy(n -> assertThat(n).isBetween(700, 1_300));
    }

    @Test
    void whenOneOfTenLeavesAboutATenthOfKeysMoveAndTheyComeBack() {
      ConsistentHashBalancer balancer = new ConsistentHashBalancer(KeySource.CLIENT_ADDRESS);
      Map<String, Backend> before = assign(balancer.picker(BackendGroup.of(ten)), 10_000);
      Backend leaving = ten.get(3);
      kill(leaving);
      Map<String, Backend> during = assign(balancer.picker(BackendGroup.of(ten)), 10_000);
      int moved = 0;
      for (Map.Entry<String, Backend> e : before.entrySet()) {
        Backend now = during.get(e.getKey());
        assertThat(now).isNotSameAs(leaving);
        if (now != e.getValue()) {
          moved++;
          assertThat(e.getValue()).as("only the leaving backend's keys move").isSameAs(leaving);
        }
      }
      assertThat(moved).as("keys moved out of 10,000").isBetween(700, 1_300);
      revive(leaving);
      assertThat(assign(balancer.picker(BackendGroup.of(ten)), 10_000)).isEqualTo(before);
    }

    @Test
    void aHeaderKeyIsUsedWhenPresentAndTheClientAddressOtherwise() {
      Picker ch = new ConsistentHashBalancer(new KeySource("X-User")).picker(BackendGroup.of(ten));
      Backend byUser = ch.pick(fresh().client("203.0.113.1").header("X-User", "alice"));
      for (int i = 0; i < 50; i++) {
        assertThat(ch.pick(fresh().client("203.0.113." + i).header("x-user", "alice"))).isEqualTo(byUser);
      }
      Backend byAddress = ch.pick(fresh().client("203.0.113.9"));
      assertThat(ch.pick(fresh().client("203.0.113.9"))).isEqualTo(byAddress);
      Picker plain = new ConsistentHashBalancer(KeySource.CLIENT_ADDRESS).picker(BackendGroup.of(ten));
      assertThat(plain.pick(fresh().client("203.0.113.9"))).isEqualTo(byAddress);
    }

    @Test
    void aRetryWalksOnToTheNextBackendOnTheRing() {
      Picker ch = new ConsistentHashBalancer(KeySource.CLIENT_ADDRESS).picker(BackendGroup.of(ten));
      Backend first = ch.pick(fresh().client("192.0.2.55"));
      Backend second = ch.pick(fresh().client("192.0.2.55").excluding(first));
      assertThat(second).isNotNull().isNotSameAs(first);
      Backend third = ch.pick(fresh().client("192.0.2.55").excluding(first, second));
      assertThat(third).isNotNull().isNotIn(first, second);
    }

    @Test
    void weightsGiveProportionalShares() {
      Backend heavy = backend(9000, 3);
      Map<Backend, Integer> counts = new HashMap<>();
      Picker ch = new ConsistentHashBalancer(KeySource.CLIENT_ADDRESS).picker(group(heavy, a));
      assign(ch, 10_000).values().forEach(x -> counts.merge(x, 1, Integer::sum));
      assertThat(counts.get(heavy)).isBetween(6_800, 8_200);
    }
  }
}
