package dev.lb.balance;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendGroup;
import org.jspecify.annotations.Nullable;

/**
 * Chooses the backend for one request. Implementations are thread-safe and non-blocking: every event loop calls the
 * same instance.
 */
public interface LoadBalancer {

  /**
   * Picks a backend among {@code group.available()} that the request has not tried yet.
   *
   * @return the backend, or null when none is left
   */
  @Nullable Backend pick(BackendGroup group, PickContext context);
}
