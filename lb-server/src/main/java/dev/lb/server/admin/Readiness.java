package dev.lb.server.admin;

import java.util.function.BooleanSupplier;

/**
 * Whether this process wants new traffic: ready from the start, draining from shutdown on ({@code /readyz} then
 * answers 503 so load balancers in front stop sending). One-way and thread-safe.
 */
public final class Readiness implements BooleanSupplier {
  private volatile boolean draining;

  /** True until {@link #markDraining()}. */
  public boolean ready() {
    return !draining;
  }

  /** From now on, not ready. */
  public void markDraining() {
    draining = true;
  }

  @Override
  public boolean getAsBoolean() {
    return ready();
  }
}
