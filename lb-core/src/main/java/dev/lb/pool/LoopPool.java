package dev.lb.pool;

import static java.util.Objects.requireNonNull;

import dev.lb.backend.Backend;
import dev.lb.config.BackendTlsConfig;
import dev.lb.tls.ClientTls;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.ssl.SslHandler;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The backend connections of one event loop: idle keep-alive connections per backend (most recently used first, so
 * that the least used age out), and new connections made on this loop. Confined to its loop: every method must be
 * called from it, which is asserted, so plain collections suffice.
 *
 * <p>A connection comes back only when its exchange ended cleanly ({@link BackendConnection#release()}); one that is
 * inactive, over the idle cap, or idle longer than the pool's idle timeout is closed.
 */
public final class LoopPool implements ConnectionPool {
  /** Longest backend response line and head; chunks up to 64 KiB pass as one message. */
  static final int MAX_RESPONSE_LINE = 8192;
  static final int MAX_RESPONSE_HEAD = 65536;
  private static final int MAX_CHUNK = 65536;
  /**
   * Whether plain response heads are relayed as their bytes ({@link RawResponse}); {@code -Dlb.rawHeads=false}
   * decodes every head, for comparisons.
   */
  private static final boolean RAW_HEADS = !"false".equals(System.getProperty("lb.rawHeads"));

  private final EventLoop loop;
  private final Bootstrap bootstrap;
  private volatile PoolSettings settings;
  private final Map<Backend, ArrayDeque<BackendConnection>> idle = new IdentityHashMap<>();
  private final WaitQueue queue;
  private final @Nullable ScheduledFuture<?> sweeper;
  private boolean closed;

  LoopPool(EventLoop loop, Bootstrap template, PoolSettings settings, WaitQueue queue) {
    this.loop = requireNonNull(loop, "loop");
    this.queue = requireNonNull(queue, "queue");
    this.settings = requireNonNull(settings, "settings");
    this.bootstrap = template.clone(loop);
    long period = Math.max(TimeUnit.MILLISECONDS.toNanos(100), Math.min(TimeUnit.SECONDS.toNanos(1),
        settings.idleTimeoutNanos() / 2));
    this.sweeper = loop.scheduleAtFixedRate(this::sweep, period, period, TimeUnit.NANOSECONDS);
  }

  /** The event loop this pool belongs to. */
  public EventLoop loop() {
    return loop;
  }

  @Override
  public @Nullable BackendConnection poll(Backend backend) {
    assert loop.inEventLoop();
    ArrayDeque<BackendConnection> queue = idle.get(backend);
    if (queue == null) {
      return null;
    }
    for (BackendConnection c; (c = queue.pollFirst()) != null; ) {
      if (c.channel().isActive()) {
        return c;
      }
      c.channel().close();
    }
    return null;
  }

  @Override
  public @Nullable ChannelFuture connect(Backend backend) {
    return backend.reserveConnection() ? connectReserved(backend) : null;
  }

  @Override
  public WaitQueue queue() {
    return queue;
  }

  /**
   * {@inheritDoc}
   *
   * <p>To an {@code https} backend the connection starts with the TLS handshake (its handler first in the pipeline,
   * made from the context of the backend's settings, within {@code connect_timeout} of the TCP connection), and the
   * future completes only once the handshake succeeded; a failed handshake fails it with {@code TLS handshake
   * failed: ...} and closes the connection. Pooled and reused alike afterwards.
   */
  @Override
  public ChannelFuture connectReserved(Backend backend) {
    assert loop.inEventLoop();
    @Nullable BackendTlsConfig tls = backend.tls();
    BackendConnection connection = new BackendConnection(backend, this, tls);
    int timeoutMillis = settings.connectTimeoutMillis();
    // Made before the channel, so that its handshake can be awaited whenever the channel registers. The channels'
    // allocator is the default one (no ALLOCATOR option is set).
    @Nullable SslHandler ssl = tls == null ? null
        : tls.client().newHandler(ByteBufAllocator.DEFAULT, backend.tlsName(), backend.port(), timeoutMillis);
    Bootstrap b = bootstrap.clone()
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeoutMillis)
        .handler(new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        if (ssl != null) {
          ch.pipeline().addLast(BackendHandlerNames.TLS, ssl);
        }
        ch.pipeline()
            .addLast(BackendHandlerNames.CLIENT_CODEC, newCodec())
            .addLast(BackendHandlerNames.BACKEND, connection);
      }
    });
    ChannelFuture connecting = b.connect(backend.address());
    // Every way a connection ends (a failed connect included) closes its channel: that gives its slot back.
    connecting.channel().closeFuture().addListener(f -> queue.slotFreed(backend));
    return ssl == null ? connecting : ClientTls.handshaken(connecting, ssl);
  }

  /** The HTTP codec of a backend connection. */
  public static BackendCodec newCodec() {
    return newCodec(RAW_HEADS);
  }

  /** The HTTP codec of a backend connection, relaying plain heads as their bytes or not. */
  public static BackendCodec newCodec(boolean rawHeads) {
    HttpDecoderConfig config = new HttpDecoderConfig()
        .setMaxInitialLineLength(MAX_RESPONSE_LINE)
        .setMaxHeaderSize(MAX_RESPONSE_HEAD)
        .setMaxChunkSize(MAX_CHUNK);
    return new BackendCodec(config, rawHeads);
  }

  @Override
  public void offer(BackendConnection connection) {
    assert loop.inEventLoop();
    Channel ch = connection.channel();
    if (!closed && connection.backend().maxConnections() > 0 && ch.isActive()
        && queue.offerToWaiter(connection, loop)) {
      return;
    }
    if (closed || !ch.isActive() || settings.maxIdle() == 0 || connection.tls() != connection.backend().tls()) {
      // (Or made with TLS settings a reload has since replaced.)
      ch.close();
      return;
    }
    ArrayDeque<BackendConnection> queue = idle.computeIfAbsent(connection.backend(), b -> new ArrayDeque<>());
    if (queue.size() >= settings.maxIdle()) {
      ch.close();
      return;
    }
    connection.markIdle(System.nanoTime());
    queue.addFirst(connection);
  }

  @Override
  public void remove(BackendConnection connection) {
    ArrayDeque<BackendConnection> queue = idle.get(connection.backend());
    if (queue != null) {
      queue.remove(connection);
    }
  }

  /** New settings (a reload): used from the next connect, offer and sweep on. */
  void settings(PoolSettings value) {
    settings = value;
  }

  /** Closes the idle connections to a backend that left the configuration. Must run on the loop. */
  void evict(Backend backend) {
    assert loop.inEventLoop();
    ArrayDeque<BackendConnection> queue = idle.remove(backend);
    if (queue != null) {
      for (BackendConnection c; (c = queue.poll()) != null; ) {
        c.channel().close();
      }
    }
  }

  /**
   * Closes the least recently used idle connection to a backend that a queued request waits for, so that its slot
   * goes to that request. Must run on the loop.
   */
  void reclaimIdle(Backend backend) {
    assert loop.inEventLoop();
    ArrayDeque<BackendConnection> q = idle.get(backend);
    if (q != null && !q.isEmpty() && queue.wanted(backend)) {
      q.pollLast().closeGracefully(WaitQueue.HANDOVER_CLOSE_MILLIS);
    }
  }

  /** Idle connections to this backend, for tests and metrics. */
  public int idleCount(Backend backend) {
    ArrayDeque<BackendConnection> queue = idle.get(backend);
    return queue == null ? 0 : queue.size();
  }

  /** Idle connections per backend; a copy. Must run on the loop. */
  Map<Backend, Integer> idleCounts() {
    Map<Backend, Integer> out = new IdentityHashMap<>();
    idle.forEach((b, q) -> {
      if (!q.isEmpty()) {
        out.put(b, q.size());
      }
    });
    return out;
  }

  /** Closes connections idle longer than the idle timeout: the oldest sit at the tail. */
  void sweep() {
    long now = System.nanoTime();
    for (ArrayDeque<BackendConnection> queue : idle.values()) {
      for (BackendConnection c; (c = queue.peekLast()) != null; ) {
        if (now - c.idleSince() < settings.idleTimeoutNanos()) {
          break;
        }
        queue.pollLast();
        c.channel().close();
      }
    }
  }

  /** Closes every idle connection and pools nothing from now on. Must run on the loop. */
  void close() {
    assert loop.inEventLoop();
    closed = true;
    if (sweeper != null) {
      sweeper.cancel(false);
    }
    List<BackendConnection> all = new ArrayList<>();
    idle.values().forEach(all::addAll);
    idle.clear();
    for (BackendConnection c : all) {
      c.channel().close();
    }
  }
}
