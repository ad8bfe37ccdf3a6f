package dev.lb.proxy;

import dev.lb.pool.BackendConnection;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;

/**
 * The request's way to the backend connection, for one {@link Exchange}: the head and the body written as they come
 * from the client, the body held while a connection is being made, writes flushed once at the end of the client's
 * read burst, and the client paused while the backend connection cannot take more. It knows how far the request got:
 * whether all of it came from the client ({@link #complete()}), whether an attempt began ({@link #sent()}), whether
 * all of it went to the backend ({@link #forwarded()}).
 *
 * <p>Buffers: body content handed to {@link #onContent} is written to the backend (whose encoder releases it), held
 * until {@link #send}, or released; whatever is still held is released by {@link #letGo()}.
 */
final class RequestWriter {
  private final Exchange exchange;
  private final AccessRecord record;
  private ClientSide client;

  private boolean bodyless;
  private boolean complete;
  private boolean sent;
  private boolean forwarded;
  private boolean wroteInRead;
  private @Nullable ArrayDeque<HttpContent> held;

  RequestWriter(Exchange exchange, ClientSide client, AccessRecord record) {
    this.exchange = exchange;
    this.client = client;
    this.record = record;
  }

  void bind(ClientSide client) {
    this.client = client;
  }

  /** A new request, without a body when {@code bodyless}: nothing of it has come or gone yet. */
  void start(boolean bodyless) {
    this.bodyless = bodyless;
    complete = false;
    sent = false;
    forwarded = false;
  }

  /** Whether the request has no body (its end may still have to come: {@link #complete()}). */
  boolean bodyless() {
    return bodyless;
  }

  /** Whether the whole request came from the client. */
  boolean complete() {
    return complete;
  }

  /** Whether part of the request's body is still to come from the client. */
  boolean unread() {
    return !complete && !bodyless;
  }

  /** Whether the current attempt began writing the request to a backend. */
  boolean sent() {
    return sent;
  }

  /** Whether the whole request went to the current attempt's backend. */
  boolean forwarded() {
    return forwarded;
  }

  /** The attempt failed and another may follow: the request is to be sent again, whole. */
  void resend() {
    sent = false;
    forwarded = false;
  }

  /**
   * A piece of the request from the client: written to {@code backend} when there is one, else held for it (or
   * released when the request has no body and this is its end).
   */
  void onContent(HttpContent content, @Nullable BackendConnection backend) {
    boolean last = content instanceof LastHttpContent;
    record.requestBody(content.content().readableBytes());
    if (last) {
      complete = true;
    }
    if (backend == null) {
      if (bodyless) {
        content.release();
      } else {
        ArrayDeque<HttpContent> pending = held;
        if (pending == null) {
          pending = held = new ArrayDeque<>(4);
        }
        pending.add(content);
      }
      return;
    }
    if (!write(backend, content)) {
      return;
    }
    if (last) {
      allForwarded();
    }
    flush(backend);
  }

  /** Sends {@code req} and whatever of its body came so far to {@code backend}, the attempt's connection. */
  void send(BackendConnection backend, HttpRequest req) {
    sent = true;
    if (!write(backend, req)) {
      return;
    }
    if (bodyless) {
      if (complete) {
        if (!write(backend, LastHttpContent.EMPTY_LAST_CONTENT)) {
          return;
        }
        forwarded = true;
      }
    } else {
      ArrayDeque<HttpContent> pending = held;
      if (pending != null) {
        for (HttpContent content; (content = pending.poll()) != null; ) {
          if (!write(backend, content)) {
            return;
          }
          if (content instanceof LastHttpContent) {
            forwarded = true;
          }
        }
      }
    }
    if (forwarded) {
      exchange.requestForwarded();
    }
    flush(backend);
  }

  private void allForwarded() {
    forwarded = true;
    exchange.requestForwarded();
  }

  /**
   * Writes {@code msg} to {@code c}; whether {@code c} is still the exchange's connection afterwards. A write to a
   * connection that already closed fails at once, and the failure ends this attempt (and may start another) before
   * the write returns: after it, nothing more is done for a connection no longer in use.
   */
  private boolean write(BackendConnection c, Object msg) {
    Channel bc = c.channel();
    bc.write(msg, bc.voidPromise());
    return exchange.uses(c);
  }

  /** Flushes now, or at the end of the client's read burst when inside one; pauses the client if the backend is full. */
  private void flush(BackendConnection c) {
    Channel bc = c.channel();
    if (client.inRead()) {
      wroteInRead = true;
    } else {
      bc.flush();
    }
    // A flush that failed may have ended the exchange: a closed connection is not writable, but nothing waits on it.
    if (exchange.uses(c) && !bc.isWritable()) {
      client.pause(ClientSide.PAUSE_BACKEND_FULL);
    }
  }

  /** The client's read burst ended: flushes to {@code backend} what was written to it during the burst. */
  void readComplete(@Nullable BackendConnection backend) {
    if (wroteInRead && backend != null) {
      backend.channel().flush();
    }
    wroteInRead = false;
  }

  /** Releases the body held for a connection, if any; the request's writing is over. */
  void letGo() {
    wroteInRead = false;
    ArrayDeque<HttpContent> pending = held;
    if (pending != null) {
      for (HttpContent content; (content = pending.poll()) != null; ) {
        content.release();
      }
    }
  }
}
