package dev.lb.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test when Netty reports a leaked buffer while or right after it ran. Registered for every test through
 * {@code META-INF/services} and JUnit's extension auto-detection (enabled in the root pom), so no test can opt out.
 *
 * <p>Netty finds a leak only when a tracked object has been garbage-collected unreleased and the detector next
 * polls its queue, which it does on every allocation at paranoid level. After each test this runs the collector once
 * and allocates a tracked buffer, after each test class three times with pauses for reference processing, then fails
 * with every report gathered (a leak the quick check misses fails the next check instead).
 */
public final class LeakFailExtension implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {

  @Override
  public void beforeAll(ExtensionContext context) {
    if (!RecordingLeakDetector.installed()) {
      throw new IllegalStateException(
          "tests must run with -Dio.netty.customResourceLeakDetector="
              + RecordingLeakDetector.class.getName());
    }
    if (ResourceLeakDetector.getLevel() != ResourceLeakDetector.Level.PARANOID) {
      throw new IllegalStateException("tests must run with -Dio.netty.leakDetection.level=paranoid");
    }
  }

  @Override
  public void afterEach(ExtensionContext context) {
    check(context.getDisplayName(), 1);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    check(context.getDisplayName() + " (after all)", 3);
  }

  /** Collects garbage thoroughly, lets the detector poll, and throws if any leak was reported. */
  public static void check(String where) {
    check(where, 3);
  }

  private static void check(String where, int rounds) {
    for (int i = 0; i < rounds; i++) {
      System.gc();
      if (rounds > 1) {
        try {
          Thread.sleep(10);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      ByteBuf probe = UnpooledByteBufAllocator.DEFAULT.directBuffer(1);
      probe.release();
      ByteBuf heap = UnpooledByteBufAllocator.DEFAULT.heapBuffer(1);
      heap.release();
    }
    List<String> leaks = RecordingLeakDetector.drain();
    if (!leaks.isEmpty()) {
      throw new AssertionError(
          leaks.size() + " Netty leak(s) reported during or before " + where + ":\n"
              + String.join("\n\n", leaks));
    }
  }
}
