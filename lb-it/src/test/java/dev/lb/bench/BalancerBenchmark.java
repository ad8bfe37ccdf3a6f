package dev.lb.bench;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendGroup;
import dev.lb.balance.LoadBalancer;
import dev.lb.balance.LoadBalancers;
import dev.lb.balance.PickContext;
import dev.lb.balance.Picker;
import dev.lb.config.Algorithm;
import dev.lb.config.BackendConfig;
import dev.lb.config.BalancingConfig;
import dev.lb.config.KeySource;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Choosing a backend, and rebuilding the choosers.
 *
 * <ul>
 *   <li>{@code pick}: {@link Picker#pick} of each algorithm over 3 and 30 backends (weights 1, 2, 3 in turn;
 *       least_connections and power_of_two see fixed, uneven active request counts), on a request's first attempt
 *       (nothing tried yet). Every request pays it once. The client address changes every call, among 1,024, which
 *       matters to consistent_hash (it hashes the address). One picker is shared, as all event loops share it.
 *   <li>{@code buildPicker}: {@link LoadBalancer#picker} over 30 backends for consistent_hash (sorts the ring of
 *       virtual nodes) and weighted_round_robin (computes one period of the smooth sequence): done on every health
 *       change, weight change and reload, on the thread that publishes the new snapshot.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-XX:+UseG1GC", "-Xms1g", "-Xmx1g"})
public class BalancerBenchmark {

  /** {@code n} backends on 10.0.0.x, weights 1, 2, 3 in turn, with some active requests. */
  static BackendGroup group(int n) {
    List<Backend> backends = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String host = "10.0.0." + (i + 1);
      Backend b = new Backend(new BackendConfig("http://" + host + ":8080", host, 8080, 1 + i % 3));
      for (int r = 0; r < (i * 7) % 5; r++) {
        b.requestStarted();
      }
      backends.add(b);
    }
    return BackendGroup.of(backends);
  }

  static LoadBalancer balancer(String algorithm) {
    for (Algorithm a : Algorithm.values()) {
      if (a.key().equals(algorithm)) {
        return LoadBalancers.create(new BalancingConfig(a, KeySource.CLIENT_ADDRESS));
      }
    }
    throw new IllegalArgumentException("algorithm: " + algorithm);
  }

  /** One snapshot's picker, shared by every thread. */
  @State(Scope.Benchmark)
  public static class Picking {
    @Param({"round_robin", "weighted_round_robin", "least_connections", "random", "power_of_two",
        "consistent_hash"})
    String algorithm;

    @Param({"3", "30"})
    int backends;

    Picker picker;

    @Setup(Level.Trial)
    public void setUp() {
      picker = balancer(algorithm).picker(group(backends));
      if (picker.pick(PickContext.of("192.0.2.1")) == null) {
        throw new IllegalStateException(algorithm + " picked nothing");
      }
    }
  }

  /**
   * A request on its first attempt, shaped as lb's exchange is: tried backends in an array (none yet), the client
   * address as {@link AsciiString}, headers not consulted by these algorithms.
   */
  @State(Scope.Thread)
  public static class Request implements PickContext {
    final AsciiString[] clients = new AsciiString[1024];
    final Backend[] tried = new Backend[2];
    int attempts;
    AsciiString client;
    int turn;

    @Setup(Level.Trial)
    public void setUp() {
      for (int i = 0; i < clients.length; i++) {
        clients[i] = AsciiString.of("198.51." + (100 + i / 256) + "." + (i % 256));
      }
    }

    /** The next request: another client. */
    Request next() {
      client = clients[turn++ & (clients.length - 1)];
      return this;
    }

    @Override
    public boolean tried(Backend backend) {
      for (int i = 0; i < attempts; i++) {
        if (tried[i] == backend) {
          return true;
        }
      }
      return false;
    }

    @Override
    public CharSequence clientAddress() {
      return client;
    }

    @Override
    public @Nullable CharSequence header(CharSequence name) {
      return null;
    }
  }

  /** A balancer and 30 backends, to make pickers from. */
  @State(Scope.Benchmark)
  public static class Building {
    @Param({"consistent_hash", "weighted_round_robin"})
    String algorithm;

    LoadBalancer balancer;
    BackendGroup group;

    @Setup(Level.Trial)
    public void setUp() {
      balancer = balancer(algorithm);
      group = group(30);
    }
  }

  @Benchmark
  public @Nullable Backend pick(Picking picking, Request request) {
    return picking.picker.pick(request.next());
  }

  @Benchmark
  public Picker buildPicker(Building building) {
    return building.balancer.picker(building.group);
  }
}
