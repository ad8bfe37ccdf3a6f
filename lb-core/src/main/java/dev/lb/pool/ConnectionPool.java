package dev.lb.pool;

import dev.lb.backend.Backend;
import io.netty.channel.ChannelFuture;
import org.jspecify.annotations.Nullable;

/**
 * Where a client connection gets backend connections: {@link LoopPool} in the server, an in-memory one in handler
 * tests. All methods are called on the event loop the pool belongs to.
 */
public interface ConnectionPool {

  /** An idle connection to this backend, attached to nothing, or null when there is none. */
  @Nullable BackendConnection poll(Backend backend);

  /**
   * Starts a new connection to this backend when it is under its {@code max_connections}, taking one of its slots
   * until the connection closes. The channel's pipeline ends in a {@link BackendConnection}, found with
   * {@link BackendConnection#of(io.netty.channel.Channel)}.
   *
   * @return the connect's future, or null when the backend is at its cap
   */
  @Nullable ChannelFuture connect(Backend backend);

  /** As {@link #connect(Backend)}, with a slot the caller already holds (one granted by the {@link WaitQueue}). */
  ChannelFuture connectReserved(Backend backend);

  /** Takes back a connection whose exchange ended cleanly: kept while there is room, else closed. */
  void offer(BackendConnection connection);

  /** Forgets a connection that closed. */
  void remove(BackendConnection connection);

  /** Where requests wait while their backends are at their caps; null when they cannot wait (503 at once). */
  default @Nullable WaitQueue queue() {
    return null;
  }
}
