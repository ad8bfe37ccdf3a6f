package dev.lb.balance;

import dev.lb.backend.Backend;
import org.jspecify.annotations.Nullable;

/** Chooses a backend for one request among one snapshot's available backends. Thread-safe, non-blocking. */
@FunctionalInterface
public interface Picker {

  /**
   * A backend the request has not tried yet.
   *
   * @return the backend, or null when none is left
   */
  @Nullable Backend pick(PickContext context);
}
