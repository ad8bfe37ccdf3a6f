package dev.lb.discovery;

/** A name being watched by {@link DnsDiscovery#watch}. */
public interface Watch extends AutoCloseable {

  /** The latest state: members, last answer, last error. Any thread may call it. */
  WatchStatus status();

  /**
   * Stops refreshing the name: no resolution starts after this, and the listener is not called again (unless a call
   * was under way on the loop already). Idempotent; any thread may call it.
   */
  @Override
  void close();
}
