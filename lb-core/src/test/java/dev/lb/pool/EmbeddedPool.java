package dev.lb.pool;

import dev.lb.backend.Backend;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.ConnectException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * A {@link ConnectionPool} of {@link EmbeddedChannel}s for handler tests: each "connection" has the real backend
 * pipeline (HTTP client codec and {@link BackendConnection}), so a test reads the encoded request from the channel's
 * outbound side and writes raw response bytes into its inbound side.
 */
public final class EmbeddedPool implements ConnectionPool {
  private final Map<Backend, ArrayDeque<BackendConnection>> idle = new HashMap<>();
  private final Set<Backend> refusing = new HashSet<>();
  private final List<EmbeddedChannel> opened = new ArrayList<>();
  private final List<Backend> connectedTo = new ArrayList<>();
  private boolean deferConnects;
  private @Nullable ChannelPromise pending;
  private int offered;
  private BiConsumer<Backend, EmbeddedChannel> onOpen = (backend, ch) -> { };
  private Supplier<BackendCodec> codecs = LoopPool::newCodec;

  /** Makes each connection's codec with {@code codecs} instead of {@link LoopPool#newCodec()}. */
  public EmbeddedPool codecs(Supplier<BackendCodec> codecs) {
    this.codecs = codecs;
    return this;
  }

  /** Runs {@code prepare} on each connection opened, once its pipeline (codec, BackendConnection) is built. */
  public EmbeddedPool onOpen(BiConsumer<Backend, EmbeddedChannel> prepare) {
    this.onOpen = prepare;
    return this;
  }

  /** Connections to this backend fail as if refused. */
  public void refuse(Backend backend) {
    refusing.add(backend);
  }

  /** From now on a connect does not complete until {@link #completePendingConnect()}. */
  public void deferConnects() {
    deferConnects = true;
  }

  /** Connects complete at once again. */
  public void stopDeferringConnects() {
    deferConnects = false;
  }

  /** The connect that was deferred, for the test to complete (or fail) later; no longer pending here. */
  public ChannelPromise takePendingConnect() {
    ChannelPromise p = pending;
    pending = null;
    if (p == null) {
      throw new IllegalStateException("no pending connect");
    }
    return p;
  }

  /** Completes the connect that was deferred. */
  public void completePendingConnect() {
    ChannelPromise p = pending;
    pending = null;
    if (p == null) {
      throw new IllegalStateException("no pending connect");
    }
    p.setSuccess();
  }

  /** Every channel this pool opened, in order. */
  public List<EmbeddedChannel> opened() {
    return opened;
  }

  /** The last channel opened. */
  public EmbeddedChannel last() {
    return opened.get(opened.size() - 1);
  }

  /** The backends connected to (including refused attempts), in order. */
  public List<Backend> connectedTo() {
    return connectedTo;
  }

  /** How many connections came back through {@link #offer(BackendConnection)}. */
  public int offered() {
    return offered;
  }

  public int idleCount(Backend backend) {
    ArrayDeque<BackendConnection> q = idle.get(backend);
    return q == null ? 0 : q.size();
  }

  @Override
  public @Nullable BackendConnection poll(Backend backend) {
    ArrayDeque<BackendConnection> q = idle.get(backend);
    return q == null ? null : q.pollFirst();
  }

  @Override
  public ChannelFuture connect(Backend backend) {
    connectedTo.add(backend);
    EmbeddedChannel ch = new EmbeddedChannel();
    if (refusing.contains(backend)) {
      ch.close();
      return ch.newFailedFuture(new ConnectException("Connection refused: " + backend));
    }
    ch.pipeline()
        .addLast(BackendHandlerNames.CLIENT_CODEC, codecs.get())
        .addLast(BackendHandlerNames.BACKEND, new BackendConnection(backend, this));
    onOpen.accept(backend, ch);
    opened.add(ch);
    if (deferConnects) {
      pending = ch.newPromise();
      return pending;
    }
    return ch.newSucceededFuture();
  }

  @Override
  public ChannelFuture connectReserved(Backend backend) {
    return connect(backend);
  }

  @Override
  public void offer(BackendConnection connection) {
    offered++;
    if (!connection.channel().isActive()) {
      return;
    }
    idle.computeIfAbsent(connection.backend(), b -> new ArrayDeque<>()).addFirst(connection);
  }

  @Override
  public void remove(BackendConnection connection) {
    ArrayDeque<BackendConnection> q = idle.get(connection.backend());
    if (q != null) {
      q.remove(connection);
    }
  }

  /** Closes every channel and releases what they hold. */
  public void finishAll() {
    for (EmbeddedChannel ch : opened) {
      ch.finishAndReleaseAll();
    }
  }
}
