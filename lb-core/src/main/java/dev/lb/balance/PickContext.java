package dev.lb.balance;

import dev.lb.backend.Backend;

/** What a balancer may know about the request it is choosing a backend for. */
public interface PickContext {

  /** A context for a first attempt that has tried nothing. */
  PickContext FIRST_ATTEMPT = backend -> false;

  /** Whether this request already failed on the backend, so that a retry goes elsewhere. */
  boolean tried(Backend backend);
}
