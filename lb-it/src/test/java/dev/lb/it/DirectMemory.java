package dev.lb.it;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Direct memory held by Netty's default allocator, which every channel of the in-process balancer (and of the test
 * backends) allocates from, and a sampler that records its peak while a transfer runs.
 */
final class DirectMemory implements AutoCloseable {
  private final AtomicLong peak = new AtomicLong();
  private final Thread thread;
  private volatile boolean running = true;

  private DirectMemory() {
    peak.set(used());
    thread = new Thread(this::run, "direct-memory-sampler");
    thread.setDaemon(true);
    thread.start();
  }

  /** Bytes of direct memory the default allocator holds now. */
  static long used() {
    return ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric().usedDirectMemory();
  }

  /** Starts sampling every few milliseconds until {@link #close()}. */
  static DirectMemory sample() {
    return new DirectMemory();
  }

  /** The most seen so far. */
  long peak() {
    return peak.get();
  }

  private void run() {
    while (running) {
      peak.accumulateAndGet(used(), Math::max);
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.join();
    peak.accumulateAndGet(used(), Math::max);
  }

  static String mib(long bytes) {
    return String.format("%.1f MiB", bytes / (1024.0 * 1024.0));
  }
}
