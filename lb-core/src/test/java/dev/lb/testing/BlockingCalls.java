package dev.lb.testing;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
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
  /** Different stacks kept per check; a call blocking in a loop would otherwise fill the heap. */
  private static final int KEPT = 20;

  /** Each stack seen since the last check, with how often. */
  private static final Map<String, AtomicInteger> CALLS = new ConcurrentHashMap<>();
  private static final AtomicInteger NOT_KEPT = new AtomicInteger();
  private static volatile boolean applied;

  @Override
  public void applyTo(BlockHound.Builder builder) {
    builder.blockingMethodCallback(BlockingCalls::record);
    // A host name looked up through the JDK (InetAddress.getByName, new InetSocketAddress(name, port)) waits for the
    // system resolver; BlockHound does not count it by default. A cached answer counts too, so that whether a test
    // fails does not depend on which thread asked first. (JDK 17's private methods; a later JDK may name them
    // otherwise, and then this counts nothing.)
    builder.markAsBlocking("java.net.InetAddress", "getAllByName0",
        "(Ljava/lang/String;Ljava/net/InetAddress;ZZ)[Ljava/net/InetAddress;");
    builder.markAsBlocking("java.net.InetAddress", "getHostFromNameService",
        "(Ljava/net/InetAddress;Z)Ljava/lang/String;");
    // A file read or written through NIO (Files.readString, Files.write, a FileChannel) waits for the disk just as
    // the java.io streams BlockHound counts do. Not transferTo: that is how Netty sends a file region, zero-copy.
    for (String io : new String[] {"read", "write"}) {
      builder.markAsBlocking("sun.nio.ch.FileChannelImpl", io, "(Ljava/nio/ByteBuffer;)I");
      builder.markAsBlocking("sun.nio.ch.FileChannelImpl", io, "([Ljava/nio/ByteBuffer;II)J");
      builder.markAsBlocking("sun.nio.ch.FileChannelImpl", io, "(Ljava/nio/ByteBuffer;J)I");
    }
    builder.markAsBlocking("sun.nio.ch.FileChannelImpl", "force", "(Z)V");
    // Allowances: library code that BlockHound sees as blocking but that does not hold an event loop up.
    // A loop shutting down spins until a thread inside its wakeup's single eventfd write(2) has left: microseconds.
    builder.allowBlockingCallsInside("io.netty.channel.uring.IoUringIoHandler", "closeWakeupGate");
    // Netty's adaptive allocator, growing a shared magazine group, retires the old magazines under each one's write
    // lock: it waits for another loop's allocation from that magazine (a few pointer bumps, no I/O) to finish. Seen
    // only with loops contending on a loaded machine (ProtocolIT, a CI run beside another build).
    builder.allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$Magazine", "free");
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
    StringWriter trace = new StringWriter();
    new Throwable("blocking call " + method + " on thread " + Thread.currentThread().getName())
        .printStackTrace(new PrintWriter(trace));
    AtomicInteger count = CALLS.get(trace.toString());
    if (count == null && CALLS.size() >= KEPT) {
      NOT_KEPT.incrementAndGet();
      return;
    }
    (count != null ? count : CALLS.computeIfAbsent(trace.toString(), k -> new AtomicInteger())).incrementAndGet();
  }

  /** Takes the blocking calls recorded so far, one entry per stack, emptying the record. */
  static List<String> drain() {
    List<String> out = new ArrayList<>();
    for (String trace : List.copyOf(CALLS.keySet())) {
      AtomicInteger count = CALLS.remove(trace);
      if (count != null) {
        int n = count.get();
        out.add(n == 1 ? trace : n + " times: " + trace);
      }
    }
    int notKept = NOT_KEPT.getAndSet(0);
    if (notKept > 0) {
      out.add(notKept + " more with other stacks, not kept");
    }
    return out;
  }
}
