package dev.lb.proxy;

import dev.lb.pool.BackendConnection;
import dev.lb.pool.RawContent;
import dev.lb.pool.RawResponse;
import dev.lb.pool.TrailerFields;
import dev.lb.transport.FailureReasons;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jspecify.annotations.Nullable;

/**
 * A backend's response on its way to the client: interim responses passed on (or dropped for HTTP/1.0), the final
 * head checked and re-framed for the client, the body relayed with backpressure (the backend is not read while the
 * client cannot take more), and the response timeout. Decisions about the exchange as a whole (retry, 502, the end)
 * go back to the {@link Exchange}. One instance per client connection, reset for each request.
 *
 * <p>The final head is held, with the body pieces of the same read, until that read ends or the response does, so
 * that a body broken in the read that brought the head still gets the client a 502 (or a retry) instead of half a
 * response.
 */
final class ResponseRelay {
  private static final Logger log = LogManager.getLogger(ResponseRelay.class);

  private final Exchange exchange;
  private ClientSide client;
  private final AccessRecord record;
  private final Runnable onTimeout = this::onTimeout;

  private @Nullable HttpResponse heldHead;
  /** Body pieces read with the held head; allocated at the first response that needs it, then kept. */
  private @Nullable ArrayDeque<HttpContent> heldContent;
  private boolean started;
  private boolean informational;
  private boolean dropInformational;
  private boolean backendKeepAlive;
  /** Whether the client connection closes after this response. */
  private boolean closeAfter;
  /**
   * The response timeout, lazily: one task per connection, re-armed only when it fires early (like Netty's
   * IdleStateHandler), so that forwarding a request schedules nothing. {@code deadline} is 0 when no response is
   * awaited.
   */
  private @Nullable ScheduledFuture<?> timer;
  private long timerAt;
  private long deadline;

  ResponseRelay(Exchange exchange, ClientSide client, AccessRecord record) {
    this.exchange = exchange;
    this.client = client;
    this.record = record;
  }

  /** Serves another client connection (see {@link Exchange#bind}). */
  void bind(ClientSide client) {
    this.client = client;
  }

  /** A new request: no response yet. */
  void reset() {
    started = false;
    closeAfter = false;
  }

  /** Whether a final response (or a tunnel's 101) began: failures from now on cut the connection. */
  boolean started() {
    return started;
  }

  /** Whether the client connection closes after this response. */
  boolean closeAfter() {
    return closeAfter;
  }

  /** Whether the backend connection can serve another request after this response. */
  boolean backendKeepAlive() {
    return backendKeepAlive;
  }

  // ---------------------------------------------------------------- the head

  void onHead(BackendConnection c, HttpResponse res) {
    if (res.decoderResult().isFailure()) {
      ReferenceCountUtil.release(res);
      log.debug("bad response head from {}: {}", c.backend(), res.decoderResult().cause().toString());
      // The backend connection is discarded; the request is retried when the contract allows, else 502 (the
      // client's connection stays usable either way).
      exchange.attemptFailed(c, FailureReasons.describe(res.decoderResult().cause()));
      return;
    }
    int code = res.status().code();
    if (code < 200 && code != 101) {
      informational = true;
      dropInformational = exchange.http10();
      if (!dropInformational) {
        ForwardedHeaders.rewriteResponse(res.headers());
        client.write(res);
      }
      return;
    }
    if (code == 101) {
      if (exchange.upgrade()) {
        cancelTimer();
        started = true;
        record.fromBackend(101);
        exchange.startTunnel(c, res);
      } else {
        // Switching protocols unasked: as malformed as any other bad head; retried when the request can be.
        ReferenceCountUtil.release(res);
        log.debug("unsolicited 101 from {}", c.backend());
        exchange.attemptFailed(c, "unsolicited 101 Switching Protocols");
      }
      return;
    }
    cancelTimer();
    started = true;
    record.fromBackend(code);
    c.backend().health().response(code);
    if (res instanceof RawResponse) {
      // Framed by Content-Length, or chunked for an HTTP/1.1 client, its hop-by-hop lines already marked to be left
      // out: only Connection to say.
      RawResponse raw = (RawResponse) res;
      backendKeepAlive = raw.keepAlive();
      closeAfter = exchange.closesAfterResponse();
      AsciiString connection = connectionValue();
      if (connection != null) {
        raw.set(HttpHeaderNames.CONNECTION, connection);
      }
      raw.set(RequestIds.HEADER, exchange.requestId());
    } else {
      boolean keepAlive = HttpUtil.isKeepAlive(res);
      boolean framed = frame(res);
      backendKeepAlive = keepAlive && framed;
      res.headers().set(RequestIds.HEADER, exchange.requestId());
    }
    heldHead = res;
  }

  /**
   * Prepares the response head for the client: hop-by-hop headers out, framing the client can read, and
   * {@code Connection} saying whether the connection stays open, which it does unless the exchange says otherwise
   * or the body can only be delimited by closing.
   *
   * @return whether the backend connection stays usable after this response (false when the backend delimits the
   *     body by closing)
   */
  private boolean frame(HttpResponse res) {
    HttpHeaders h = res.headers();
    boolean chunked = HttpUtil.isTransferEncodingChunked(res);
    boolean framed = chunked || HttpUtil.isContentLengthSet(res) || exchange.hasNoBody(res.status().code());
    boolean http10 = exchange.http10();
    ForwardedHeaders.rewriteResponse(h);
    closeAfter = exchange.closesAfterResponse();
    if (!framed) {
      // Delimited by the backend closing: re-framed as chunked for HTTP/1.1, else the client connection closes too.
      if (http10 || closeAfter) {
        closeAfter = true;
      } else {
        h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
      }
    } else if (chunked && http10) {
      h.remove(HttpHeaderNames.TRANSFER_ENCODING);
      closeAfter = true;
    }
    AsciiString connection = connectionValue();
    if (connection != null) {
      h.set(HttpHeaderNames.CONNECTION, connection);
    }
    res.setProtocolVersion(HttpVersion.HTTP_1_1);
    return framed;
  }

  /**
   * The {@code Connection} field the client gets, once {@link #closeAfter} is decided: {@code close} when the
   * connection closes after this response, {@code keep-alive} for an HTTP/1.0 client it stays open for, else none.
   */
  private @Nullable AsciiString connectionValue() {
    if (closeAfter) {
      return HttpHeaderValues.CLOSE;
    }
    return exchange.http10() ? HttpHeaderValues.KEEP_ALIVE : null;
  }

  /** Whether a final head is held back from the client (nothing of the response reached it yet). */
  boolean holdsHead() {
    return heldHead != null;
  }

  /** Writes the held response head and the body pieces held with it, if any. */
  private void writeHeld() {
    HttpResponse head = heldHead;
    if (head != null) {
      heldHead = null;
      client.write(head);
      ArrayDeque<HttpContent> held = heldContent;
      if (held != null) {
        for (HttpContent c; (c = held.poll()) != null; ) {
          client.write(c);
        }
      }
    }
  }

  /** Releases the held response head and body pieces, if any. */
  void releaseHeld() {
    HttpResponse head = heldHead;
    if (head != null) {
      heldHead = null;
      ReferenceCountUtil.release(head);
    }
    ArrayDeque<HttpContent> held = heldContent;
    if (held != null) {
      for (HttpContent c; (c = held.poll()) != null; ) {
        c.release();
      }
    }
  }

  /**
   * The backend failed after its response head, before any of it reached the client: the head is dropped and the
   * attempt failed like one with a malformed head (a retry when the request can be sent again, else 502).
   */
  void dropHeld(BackendConnection c, String why) {
    releaseHeld();
    started = false;
    record.responseDropped();
    exchange.attemptFailed(c, why);
  }

  // ---------------------------------------------------------------- the body

  void onContent(BackendConnection c, HttpContent content) {
    boolean last = content instanceof LastHttpContent;
    if (informational) {
      if (dropInformational) {
        content.release();
      } else {
        client.write(content);
      }
      if (last) {
        informational = false;
      }
      return;
    }
    if (!started) {
      content.release();
      return;
    }
    if (content.decoderResult().isFailure()) {
      content.release();
      log.debug("bad response body from {}: {}", c.backend(), content.decoderResult().cause().toString());
      if (heldHead != null) {
        dropHeld(c, FailureReasons.describe(content.decoderResult().cause()));
      } else {
        exchange.abortResponse();
      }
      return;
    }
    record.responseBody(RawContent.dataBytes(content));
    if (last) {
      writeHeld();
      // Fields that must not be trailers (framing, routing, credentials...) are dropped, as for requests.
      TrailerFields.strip(((LastHttpContent) content).trailingHeaders());
      exchange.finish((LastHttpContent) content);
      return;
    }
    if (heldHead != null) {
      ArrayDeque<HttpContent> held = heldContent;
      if (held == null) {
        held = heldContent = new ArrayDeque<>(4);
      }
      held.add(content);
      return;
    }
    client.write(content);
    if (!client.isWritable()) {
      c.channel().config().setAutoRead(false);
    }
  }

  /** The backend's read burst ended: what it brought goes to the client. */
  void readComplete() {
    writeHeld();
    client.flush();
  }

  /** The client can take more: the backend is read again. */
  void clientWritable(BackendConnection c) {
    c.channel().config().setAutoRead(true);
  }

  /** The exchange ended: interim state goes. */
  void end() {
    cancelTimer();
    informational = false;
  }

  // ---------------------------------------------------------------- the response timeout

  /** The request is with the backend: its response head is due within {@code response_timeout}. */
  void armTimer(long timeoutNanos) {
    long at = client.executor().ticker().nanoTime() + timeoutNanos;
    deadline = at;
    ScheduledFuture<?> pending = timer;
    if (pending == null) {
      schedule(at, timeoutNanos);
    } else if (at - timerAt < 0) {
      // A shorter timeout came with a reload: the pending task would fire too late.
      pending.cancel(false);
      schedule(at, timeoutNanos);
    }
  }

  private void schedule(long at, long delay) {
    timerAt = at;
    timer = client.executor().schedule(onTimeout, delay, TimeUnit.NANOSECONDS);
  }

  /** No response is awaited any more; a pending task finds nothing to do when it fires. */
  void cancelTimer() {
    deadline = 0;
  }

  /** Cancels the pending task too; for a handler leaving its pipeline (the exchange releases what is held). */
  void cancelTimerTask() {
    deadline = 0;
    ScheduledFuture<?> t = timer;
    if (t != null) {
      timer = null;
      t.cancel(false);
    }
  }

  private void onTimeout() {
    timer = null;
    long at = deadline;
    if (at == 0 || !exchange.active() || started) {
      return;
    }
    long left = at - client.executor().ticker().nanoTime();
    if (left > 0) {
      schedule(at, left);
      return;
    }
    deadline = 0;
    exchange.responseTimedOut();
  }
}
