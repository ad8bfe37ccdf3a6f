package dev.lb.bench;

import dev.lb.stats.BackendStats;
import dev.lb.stats.ProxyStats;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the status page's figures cost a request: {@code request} is what every proxied request records (the backend
 * chosen, its response with status, duration and body sizes into the counters and the latency histogram, and the
 * proxy's total), on one thread and on two sharing one backend, as two worker loops do.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-XX:+UseG1GC", "-Xms1g", "-Xmx1g"})
@State(Scope.Benchmark)
public class StatsBenchmark {
  private final BackendStats backend = new BackendStats();
  private final ProxyStats proxy = new ProxyStats();

  /** Each thread's own request number, so that the threads share only what the workers share. */
  @State(Scope.Thread)
  public static class Worker {
    long n;
  }

  private void record(Worker w) {
    long i = w.n++;
    backend.selected(i + 1);
    backend.responded(200, 200_000 + (i & 0xffff) * 31, 0, 512);
    proxy.requestDone();
  }

  @Benchmark
  @Threads(1)
  public void request(Worker w) {
    record(w);
  }

  @Benchmark
  @Threads(2)
  public void requestTwoThreads(Worker w) {
    record(w);
  }
}
