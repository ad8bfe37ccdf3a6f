package dev.lb.pool;

import static java.util.Objects.requireNonNull;

import dev.lb.backend.Backend;
import dev.lb.config.BackendTlsConfig;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The last handler of a backend connection's pipeline, and the connection's identity in its {@link LoopPool}.
 *
 * <p>While a request uses the connection, every event goes to that request's {@link Listener}, which then owns each
 * message passed to it. While the connection idles in the pool, anything it reads is unexpected (a backend may not
 * answer what was not asked): the message is released and the connection closed; when it closes, it leaves the pool.
 */
public final class BackendConnection extends ChannelInboundHandlerAdapter {

  /** Receives a backend connection's events while a request uses it. Called on the connection's event loop. */
  public interface Listener {
    /** A decoded message; the listener owns it. */
    void onBackendRead(BackendConnection connection, Object msg);

    /** The end of one read burst: a good time to flush what was relayed. */
    void onBackendReadComplete(BackendConnection connection);

    void onBackendWritabilityChanged(BackendConnection connection);

    /**
     * The connection closed or failed while in use.
     *
     * @param cause the failure, or null for a plain close
     */
    void onBackendClosed(BackendConnection connection, @Nullable Throwable cause);
  }

  private final Backend backend;
  private final ConnectionPool pool;
  private final @Nullable BackendTlsConfig tls;
  private @Nullable Channel channel;
  private @Nullable Listener listener;
  private @Nullable BackendCodec codec;
  private long idleSince;
  private int uses;
  private boolean closedReported;

  /** A plain connection. */
  public BackendConnection(Backend backend, ConnectionPool pool) {
    this(backend, pool, null);
  }

  /** A connection made with these TLS settings (null: plain). */
  public BackendConnection(Backend backend, ConnectionPool pool, @Nullable BackendTlsConfig tls) {
    this.backend = requireNonNull(backend, "backend");
    this.pool = requireNonNull(pool, "pool");
    this.tls = tls;
  }

  /** The {@link BackendConnection} at the end of a backend channel's pipeline. */
  public static BackendConnection of(Channel channel) {
    return (BackendConnection) channel.pipeline().get(BackendHandlerNames.BACKEND);
  }

  public Backend backend() {
    return backend;
  }

  /** The connection's channel. */
  public Channel channel() {
    Channel ch = channel;
    if (ch == null) {
      throw new IllegalStateException("not in a pipeline");
    }
    return ch;
  }

  /** The TLS settings the connection was made with; null for a plain one. */
  public @Nullable BackendTlsConfig tls() {
    return tls;
  }

  /** How many requests have used this connection, counting the current one. */
  public int uses() {
    return uses;
  }

  /** Whether this connection served an earlier request before the current one (a reused keep-alive connection). */
  public boolean reused() {
    return uses > 1;
  }

  /** Hands the connection to a request. */
  public void attach(Listener listener) {
    this.listener = requireNonNull(listener, "listener");
    uses++;
  }

  /** Takes the connection back from its request, so that its events no longer reach it. */
  public void detach() {
    listener = null;
  }

  /**
   * Puts the connection back in its pool if it can serve another request, else closes it: one whose backend sent
   * more bytes than the response it just ended is closed here, before another request could take it.
   */
  public void release() {
    listener = null;
    Channel ch = channel;
    if (ch != null) {
      BackendCodec c = codec;
      if (c != null && c.holdsUnreadBytes()) {
        ch.close();
        return;
      }
      ch.config().setAutoRead(true);
    }
    pool.offer(this);
  }

  /** Detaches and closes the connection: it is in an unknown state and must not be reused. */
  public void discard() {
    listener = null;
    Channel ch = channel;
    if (ch != null) {
      ch.close();
    }
  }

  /**
   * Closes an idle connection so that its slot can go to another request without the backend ever seeing more than
   * its {@code max_connections}: lb only shuts its output, and the slot is freed when the backend has closed its end
   * (which it does on reading the end of the stream), or after {@code timeoutMillis} at the latest. A plain close
   * would free the slot at once, and the new connection could reach the backend before it noticed the old one end.
   * Over TLS the end of lb's output is its {@code close_notify}, sent through the TLS handler (shutting the socket's
   * output under it would cut the TLS stream short).
   */
  public void closeGracefully(long timeoutMillis) {
    listener = null;
    Channel ch = channel;
    if (ch == null) {
      return;
    }
    SslHandler ssl = (SslHandler) ch.pipeline().get(BackendHandlerNames.TLS);
    if (ssl != null && ch.isActive()) {
      ssl.closeOutbound();
      ch.eventLoop().schedule(() -> {
        ch.close();
      }, timeoutMillis, TimeUnit.MILLISECONDS);
    } else if (ch instanceof DuplexChannel duplex && ch.isActive()) {
      duplex.shutdownOutput();
      ch.eventLoop().schedule(() -> {
        ch.close();
      }, timeoutMillis, TimeUnit.MILLISECONDS);
    } else {
      ch.close();
    }
  }

  /** When the connection last went idle in a pool. */
  public long idleSince() {
    return idleSince;
  }

  /** Records that the connection went idle in a pool now. */
  public void markIdle(long now) {
    idleSince = now;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    channel = ctx.channel();
    codec = ctx.pipeline().get(BackendCodec.class);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    Listener l = listener;
    if (l != null) {
      l.onBackendRead(this, msg);
    } else {
      ReferenceCountUtil.release(msg);
      ctx.close();
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    Listener l = listener;
    if (l != null) {
      l.onBackendReadComplete(this);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    Listener l = listener;
    if (l != null) {
      l.onBackendWritabilityChanged(this);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    pool.remove(this);
    reportClosed(null);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    reportClosed(cause);
    ctx.close();
  }

  private void reportClosed(@Nullable Throwable cause) {
    Listener l = listener;
    listener = null;
    if (l != null && !closedReported) {
      closedReported = true;
      l.onBackendClosed(this, cause);
    }
  }

  @Override
  public String toString() {
    return "BackendConnection(" + backend + ", " + channel + ")";
  }
}
