package dev.lb.proxy;

import dev.lb.pool.BackendConnection;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.EventExecutor;
import org.jspecify.annotations.Nullable;

/**
 * The client connection as an {@link Exchange} sees it: where the response goes, whether the client is read, and
 * what happens to the connection when the exchange ends. {@link ProxyHandler} is the one implementation.
 */
interface ClientSide {
  /** Reading paused while a backend connection is made, a retry waits, or the request waits in the queue. */
  int PAUSE_CONNECTING = 1;
  /** Reading paused while the backend cannot take more of the request. */
  int PAUSE_BACKEND_FULL = 2;

  /** The connection's event loop: timers run here, and every call on this interface is made from it. */
  EventExecutor executor();

  /** The client's address, for the exchange's forwarding headers, the balancer and the access log. */
  AsciiString ip();

  int port();

  /** The connection's protocol and TLS facts ({@code X-Forwarded-Proto}, the access log). */
  ClientConnection connection();

  /** Writes {@code msg} towards the client without flushing. */
  void write(Object msg);

  void flush();

  void writeAndFlush(Object msg);

  /** Whether the client connection can take more without buffering past its high-water mark. */
  boolean isWritable();

  /** Whether a read burst from the client is under way: writes to the backend are flushed once, at its end. */
  boolean inRead();

  /** Whether the connection is closing: nothing more is read or served. */
  boolean closing();

  /** Stops reading the client for {@code reason} (one of the {@code PAUSE_} bits). */
  void pause(int reason);

  /** Ends the pauses for {@code reasons}; reading resumes when no pause is left. */
  void resume(int reasons);

  /** Whether the unread rest of this request's body is small enough to read and drop. */
  boolean canSwallow(@Nullable HttpRequest req);

  /**
   * The exchange wrote its last message: send it, then close, or drop the rest of the request's body, or go on with
   * the next request.
   *
   * @param bodyRead when the request's body is still arriving, how much of it was read; -1 when it is complete
   * @param linger when closing, whether the client may still be sending
   */
  void ended(Object lastMessage, boolean close, long bodyRead, boolean linger);

  /** The exchange cannot complete its response: the connection is cut. */
  void abort();

  /** The connection becomes a byte tunnel to {@code backend} (after a {@code 101} was written). */
  void tunnel(BackendConnection backend, long idleTimeoutNanos);
}
