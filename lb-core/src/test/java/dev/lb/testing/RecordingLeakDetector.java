package dev.lb.testing;

import io.netty.util.ResourceLeakDetector;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Netty's leak detector that also remembers every leak it reports, so that {@link LeakFailExtension} can fail the test
 * that ran while the leak was found. Installed in every test JVM with
 * {@code -Dio.netty.customResourceLeakDetector=dev.lb.testing.RecordingLeakDetector} (see the root pom).
 */
public final class RecordingLeakDetector<T> extends ResourceLeakDetector<T> {
  private static final ConcurrentLinkedQueue<String> LEAKS = new ConcurrentLinkedQueue<>();

  public RecordingLeakDetector(Class<?> resourceType, int samplingInterval) {
    super(resourceType, samplingInterval);
  }

  /** Netty looks this constructor up first, and logs an error when it is missing. */
  @SuppressWarnings("deprecation")
  public RecordingLeakDetector(Class<?> resourceType, int samplingInterval, long maxActive) {
    super(resourceType, samplingInterval, maxActive);
  }

  /** Whether this detector, rather than Netty's default one, is in use in this JVM. */
  public static boolean installed() {
    return RecordingLeakDetector.class
        .getName()
        .equals(System.getProperty("io.netty.customResourceLeakDetector"));
  }

  /** Takes the leaks reported so far, emptying the record. */
  public static List<String> drain() {
    List<String> out = new ArrayList<>();
    for (String s; (s = LEAKS.poll()) != null; ) {
      out.add(s);
    }
    return out;
  }

  @Override
  protected boolean needReport() {
    return true;
  }

  @Override
  protected void reportTracedLeak(String resourceType, String records) {
    LEAKS.add("LEAK: " + resourceType + records);
    super.reportTracedLeak(resourceType, records);
  }

  @Override
  protected void reportUntracedLeak(String resourceType) {
    LEAKS.add("LEAK: " + resourceType + " (untraced)");
    super.reportUntracedLeak(resourceType);
  }
}
