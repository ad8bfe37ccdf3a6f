package dev.lb.balance;

import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;

/** Test access to {@link SlowStart} with a driven clock. */
public final class SlowStartProbe {
  private SlowStartProbe() {}

  /** {@code inner}'s underlying picker re-wrapped in slow start on a driven clock. */
  public static Picker withClock(Picker published, long durationNanos, LongSupplier nanoTime) {
    Picker inner = published instanceof SlowStart ? ((SlowStart) published).inner() : published;
    return SlowStart.wrap(inner, durationNanos, nanoTime, () -> ThreadLocalRandom.current().nextDouble());
  }
}
