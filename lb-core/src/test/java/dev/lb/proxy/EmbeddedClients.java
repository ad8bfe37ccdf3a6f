package dev.lb.proxy;

import dev.lb.pool.ConnectionPool;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.ImmediateEventExecutor;

/**
 * Client connections for handler tests: an {@link EmbeddedChannel} with the pipeline {@link ProxyInitializer}
 * builds, whose backend connections come from the given pool (usually a {@code dev.lb.pool.EmbeddedPool}). Time is
 * frozen before the pipeline is built, so tests drive the timers with {@code advanceTimeBy}.
 */
public final class EmbeddedClients {
  private EmbeddedClients() {}

  /** A new client connection through {@code context}, with the rate-limit slot filled if the context has one. */
  public static EmbeddedChannel open(ProxyContext context, ConnectionPool pool) {
    return install(new EmbeddedChannel(), context, pool);
  }

  /**
   * Freezes the channel's time and builds lb's client pipeline on it; the channel may be configured first (an
   * allocator, say) and its pipeline given extra observers after.
   */
  public static <C extends EmbeddedChannel> C install(C channel, ProxyContext context, ConnectionPool pool) {
    channel.freezeTime();
    channel.pipeline().addLast(
        new ProxyInitializer(context, loop -> pool, new DefaultChannelGroup(ImmediateEventExecutor.INSTANCE)));
    return channel;
  }
}
