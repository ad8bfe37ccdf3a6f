package dev.lb.testing;

import io.netty.util.concurrent.FastThreadLocalThread;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import reactor.blockhound.BlockHound;

/**
 * Fails a test when an event-loop thread made a blocking call (sleep, wait, park, file or socket I/O) while or
 * shortly before it ran. Registered for every test through {@code META-INF/services} and JUnit's extension
 * auto-detection (enabled in the root pom), so no test can opt out; BlockHound itself is set up by
 * {@link BlockingCalls}.
 *
 * <p>Before the first test class of a JVM this makes sure BlockHound is installed and works: a {@code Thread.sleep}
 * on a fresh Netty thread must be recorded. After each test, and after each test class, it fails with every blocking
 * call recorded since the last check (one made between tests, by a server shutting down, fails the class).
 */
public final class BlockingFailExtension implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {
  private static final String PROBE = "lb-blockhound-probe";
  private static final AtomicBoolean PROVED = new AtomicBoolean();

  @Override
  public void beforeAll(ExtensionContext context) throws InterruptedException {
    BlockHound.install();
    if (!BlockingCalls.applied()) {
      throw new IllegalStateException(
          "BlockHound was installed without " + BlockingCalls.class.getName()
              + " (META-INF/services/reactor.blockhound.integration.BlockHoundIntegration)");
    }
    if (PROVED.compareAndSet(false, true)) {
      proveInstalled();
    }
  }

  @Override
  public void afterEach(ExtensionContext context) {
    check(context.getDisplayName());
  }

  @Override
  public void afterAll(ExtensionContext context) {
    check(context.getDisplayName() + " (after all)");
  }

  /** Throws if an event-loop thread made a blocking call since the last check. */
  public static void check(String where) {
    List<String> calls = BlockingCalls.drain();
    if (!calls.isEmpty()) {
      throw new AssertionError(
          "event-loop thread(s) blocked during or before " + where + ":\n" + String.join("\n", calls));
    }
  }

  private static void proveInstalled() throws InterruptedException {
    Thread probe = new FastThreadLocalThread(() -> {
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, PROBE);
    probe.start();
    probe.join();
    List<String> calls = BlockingCalls.drain();
    if (!calls.removeIf(call -> call.contains(" on thread " + PROBE + "\n"))) {
      throw new IllegalStateException(
          "BlockHound does not see blocking calls (tests must run with -XX:+AllowRedefinitionToAddDeleteMethods)");
    }
    if (!calls.isEmpty()) {
      throw new AssertionError(
          "event-loop thread(s) blocked before the first test:\n" + String.join("\n", calls));
    }
  }
}
