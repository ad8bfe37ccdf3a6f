package dev.lb.balance;

import static java.util.Objects.requireNonNull;

import dev.lb.backend.BackendGroup;

/** A snapshot of the backends and the picker made for it, swapped together. */
public record Routing(BackendGroup group, Picker picker) {
  public Routing {
    requireNonNull(group, "group");
    requireNonNull(picker, "picker");
  }
}
