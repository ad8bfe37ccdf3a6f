package dev.lb.it;

import io.netty.buffer.ByteBuf;
import io.netty.util.ResourceLeakDetector;
import java.lang.reflect.Field;
import java.util.Set;

/**
 * The buffers Netty's leak detector tracks right now: at paranoid level every buffer an allocator hands out is
 * tracked from allocation to its last release, so this is the number of buffers allocated and not yet released in
 * the whole JVM (plus any garbage-collected unreleased, which the detector reports as leaks when it next polls).
 *
 * <p>Read from the detector's private set by reflection; a Netty version that renames it fails the test that asks,
 * rather than letting it pass without looking.
 */
final class TrackedBuffers {
  private TrackedBuffers() {}

  static int count() {
    try {
      Field detectorField = Class.forName("io.netty.buffer.AbstractByteBuf").getDeclaredField("leakDetector");
      detectorField.setAccessible(true);
      @SuppressWarnings("unchecked")
      ResourceLeakDetector<ByteBuf> detector = (ResourceLeakDetector<ByteBuf>) detectorField.get(null);
      Field leaks = ResourceLeakDetector.class.getDeclaredField("allLeaks");
      leaks.setAccessible(true);
      return ((Set<?>) leaks.get(detector)).size();
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("cannot read the buffers Netty's leak detector tracks", e);
    }
  }
}
