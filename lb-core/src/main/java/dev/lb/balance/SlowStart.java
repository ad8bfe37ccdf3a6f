package dev.lb.balance;

import dev.lb.backend.Backend;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Slow start for any algorithm: a backend that came back from unhealthy less than {@code duration} ago takes a
 * request its picker chose only with probability {@code f = elapsed / duration}; otherwise the picker chooses again
 * without it. Its effective weight so grows linearly from 0 to its weight over the duration (with round robin over
 * equal backends it gets {@code f / (n - 1 + f)} of the requests, as with Envoy's slow start), and at the end it is
 * back to its full share. A backend that never left (present at start) is not ramped.
 */
public final class SlowStart implements Picker {
  private final Picker inner;
  private final long durationNanos;
  private final LongSupplier nanoTime;
  private final DoubleSupplier random;

  SlowStart(Picker inner, long durationNanos, LongSupplier nanoTime, DoubleSupplier random) {
    this.inner = inner;
    this.durationNanos = durationNanos;
    this.nanoTime = nanoTime;
    this.random = random;
  }

  /** {@code inner} with slow start over {@code durationNanos}, or {@code inner} itself when the duration is 0. */
  public static Picker wrap(Picker inner, long durationNanos) {
    return wrap(inner, durationNanos, System::nanoTime, () -> ThreadLocalRandom.current().nextDouble());
  }

  static Picker wrap(Picker inner, long durationNanos, LongSupplier nanoTime, DoubleSupplier random) {
    return durationNanos <= 0 ? inner : new SlowStart(inner, durationNanos, nanoTime, random);
  }

  /** The picker this one ramps. */
  Picker inner() {
    return inner;
  }

  /** How much of its share a backend gets now, from 0 to 1. */
  double share(Backend backend) {
    long back = backend.health().backSinceNanos();
    if (back == 0) {
      return 1;
    }
    long elapsed = nanoTime.getAsLong() - back;
    return elapsed >= durationNanos ? 1 : Math.max(0, (double) elapsed / durationNanos);
  }

  @Override
  public @Nullable Backend pick(PickContext context) {
    Backend chosen = inner.pick(context);
    if (chosen == null) {
      return null;
    }
    double share = share(chosen);
    if (share >= 1 || random.getAsDouble() < share) {
      return chosen;
    }
    Backend other = inner.pick(new Without(context, chosen));
    return other != null ? other : chosen;
  }

  /** The request's context with one more backend counted as tried. */
  private record Without(PickContext context, Backend skipped) implements PickContext {
    @Override
    public boolean tried(Backend backend) {
      return backend == skipped || context.tried(backend);
    }

    @Override
    public CharSequence clientAddress() {
      return context.clientAddress();
    }

    @Override
    public @Nullable CharSequence header(CharSequence name) {
      return context.header(name);
    }
  }
}
