package dev.lb.pool;

import static java.util.Objects.requireNonNull;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** One {@link LoopPool} per event loop of the worker group, made at start; looked up once per client connection. */
public final class BackendPools {
  private final Map<EventExecutor, LoopPool> pools = new IdentityHashMap<>();
  private final WaitQueue queue;

  /** Pools whose requests cannot wait for a capped backend (no queue). */
  public BackendPools(
      EventLoopGroup workers,
      Class<? extends SocketChannel> socketChannel,
      @Nullable AddressResolverGroup<InetSocketAddress> resolver,
      PoolSettings settings) {
    this(workers, socketChannel, resolver, settings, new WaitQueue(0));
  }

  /**
   * @param workers the event loops that serve client connections
   * @param socketChannel the transport's socket channel class
   * @param resolver resolves backend host names without blocking; null for IP literals only
   */
  public BackendPools(
      EventLoopGroup workers,
      Class<? extends SocketChannel> socketChannel,
      @Nullable AddressResolverGroup<InetSocketAddress> resolver,
      PoolSettings settings,
      WaitQueue queue) {
    requireNonNull(workers, "workers");
    this.queue = requireNonNull(queue, "queue");
    Bootstrap template =
        new Bootstrap()
            .channel(socketChannel)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.SO_KEEPALIVE, true);
    if (resolver != null) {
      template.resolver(resolver);
    }
    for (EventExecutor executor : workers) {
      EventLoop loop = (EventLoop) executor;
      pools.put(loop, new LoopPool(loop, template, settings, queue));
    }
    queue.reclaimIdle(this::reclaimIdle);
  }

  /** The queue shared by every loop's pool. */
  public WaitQueue queue() {
    return queue;
  }

  /** Asks every loop but {@code except} to close one idle connection to the backend, for a queued request. */
  private void reclaimIdle(dev.lb.backend.Backend backend, EventExecutor except) {
    for (LoopPool pool : pools.values()) {
      if (pool.loop() != except && !pool.loop().isShuttingDown()) {
        try {
          pool.loop().execute(() -> pool.reclaimIdle(backend));
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
          // Shutting down: its connections close anyway.
        }
      }
    }
  }

  /** The pool of this event loop. */
  public LoopPool forLoop(EventLoop loop) {
    LoopPool pool = pools.get(loop);
    if (pool == null) {
      throw new IllegalArgumentException("not a worker loop: " + loop);
    }
    return pool;
  }

  /** New settings for every pool (a reload). */
  public void settings(PoolSettings value) {
    for (LoopPool pool : pools.values()) {
      pool.settings(value);
    }
  }

  /** Closes the idle connections to a backend on every loop (it left the configuration); does not wait. */
  public void evict(dev.lb.backend.Backend backend) {
    for (LoopPool pool : pools.values()) {
      if (!pool.loop().isShuttingDown()) {
        pool.loop().execute(() -> pool.evict(backend));
      }
    }
  }

  /**
   * Idle connections to each backend across the loops, each loop counting its own; completes when every loop has
   * answered (a loop shutting down counts none).
   */
  public java.util.concurrent.CompletableFuture<Map<dev.lb.backend.Backend, Integer>> idleCounts() {
    java.util.concurrent.CompletableFuture<Map<dev.lb.backend.Backend, Integer>> total =
        java.util.concurrent.CompletableFuture.completedFuture(new IdentityHashMap<>());
    for (LoopPool pool : pools.values()) {
      java.util.concurrent.CompletableFuture<Map<dev.lb.backend.Backend, Integer>> one =
          new java.util.concurrent.CompletableFuture<>();
      try {
        pool.loop().execute(() -> one.complete(pool.idleCounts()));
      } catch (java.util.concurrent.RejectedExecutionException stopping) {
        one.complete(Map.of());
      }
      total = total.thenCombine(one, (sum, part) -> {
        part.forEach((b, n) -> sum.merge(b, n, Integer::sum));
        return sum;
      });
    }
    return total;
  }

  /** Closes every pooled connection, each on its own loop, and waits for that to be done. */
  public void close() {
    List<Future<?>> done = new ArrayList<>();
    for (LoopPool pool : pools.values()) {
      if (!pool.loop().isShuttingDown()) {
        done.add(pool.loop().submit(pool::close));
      }
    }
    for (Future<?> f : done) {
      f.awaitUninterruptibly();
    }
  }
}
