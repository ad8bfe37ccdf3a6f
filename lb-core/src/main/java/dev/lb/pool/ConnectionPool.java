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
   * Starts a new connection to this backend. The channel's pipeline ends in a {@link BackendConnection}, found with
   * {@link BackendConnection#of(io.netty.channel.Channel)}.
   */
  ChannelFuture connect(Backend backend);

  /** Takes back a connection whose exchange ended cleanly: kept while there is room, else closed. */
  void offer(BackendConnection connection);

  /** Forgets a connection that closed. */
  void remove(BackendConnection connection);
}
