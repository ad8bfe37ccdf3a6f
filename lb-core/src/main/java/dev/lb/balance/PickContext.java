package dev.lb.balance;

import dev.lb.backend.Backend;
import org.jspecify.annotations.Nullable;

/** What a balancer may know about the request it is choosing a backend for. */
public interface PickContext {

  /** Whether this request already failed on the backend, so that a retry goes elsewhere. */
  boolean tried(Backend backend);

  /** The client's address (the TCP peer), as text. */
  CharSequence clientAddress();

  /** The value of a request header, or null when the request has none. */
  @Nullable CharSequence header(CharSequence name);

  /** A context that tried nothing, from this client address, with no headers: for tests and probes. */
  static PickContext of(CharSequence clientAddress) {
    return new PickContext() {
      @Override
      public boolean tried(Backend backend) {
        return false;
      }

      @Override
      public CharSequence clientAddress() {
        return clientAddress;
      }

      @Override
      public @Nullable CharSequence header(CharSequence name) {
        return null;
      }
    };
  }
}
