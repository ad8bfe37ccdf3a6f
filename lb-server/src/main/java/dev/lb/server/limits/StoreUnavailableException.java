package dev.lb.server.limits;

/** The store could not take a write; the API answers 503. */
public class StoreUnavailableException extends Exception {
  private static final long serialVersionUID = 1L;

  public StoreUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
