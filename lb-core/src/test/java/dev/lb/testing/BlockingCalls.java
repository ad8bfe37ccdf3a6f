package dev.lb.testing;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.blockhound.BlockHound;
import reactor.blockhound.BlockingMethod;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * BlockHound's setup for every test JVM, found through {@code META-INF/services} whoever installs BlockHound first
 * ({@code blockhound-junit-platform} when the test plan starts, else {@link BlockingFailExtension}).
 *
 * <p>Which threads must not block comes from Netty's own integration in netty-common: every {@code
 * FastThreadLocalThread}, which is what the {@code DefaultThreadFactory} behind {@code Transport.newGroup} makes, so
 * every lb event loop (and every other Netty event loop in the JVM). A blocking call there is recorded here, with its
 * thread and stack, instead of BlockHound's default of throwing in the offending thread, which inside a server shows
 * up as a 502 or a hang far from the cause; {@link BlockingFailExtension} fails the test that was running with it.
 */
public final class BlockingCalls implements BlockHoundIntegration {
  /** Full reports kept per check; a call blocking in a loop would otherwise fill the heap. */
  private static final int KEPT = 20;

  private static final ConcurrentLinkedQueue<String> CALLS = new ConcurrentLinkedQueue<>();
  private static final AtomicInteger COUNT = new AtomicInteger();
  private static volatile boolean applied;

  @Override
  public void applyTo(BlockHound.Builder builder) {
    builder.blockingMethodCallback(BlockingCalls::record);
    // Allowances: library code that BlockHound sees as blocking but that does not hold an event loop up.
    applied = true;
  }

  /** After Netty's and BlockHound's own integrations, so that nothing replaces the callback. */
  @Override
  public int getPriority() {
    return Integer.MAX_VALUE;
  }

  /** Whether BlockHound was installed with this integration in this JVM. */
  static boolean applied() {
    return applied;
  }

  private static void record(BlockingMethod method) {
    if (COUNT.getAndIncrement() >= KEPT) {
      return;
    }
    Thread thread = Thread.currentThread();
    StringWriter trace = new StringWriter();
    new Throwable("blocking call " + method + " on thread " + thread.getName()).printStackTrace(
        new PrintWriter(trace));
    CALLS.add(trace.toString());
  }

  /** Takes the blocking calls recorded so far, emptying the record. */
  static List<String> drain() {
    List<String> out = new ArrayList<>();
    for (String s; (s = CALLS.poll()) != null; ) {
      out.add(s);
    }
    int count = COUNT.getAndSet(0);
    if (count > out.size()) {
      out.add((count - out.size()) + " more not kept");
    }
    return out;
  }
}
