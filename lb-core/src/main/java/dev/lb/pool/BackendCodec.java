package dev.lb.pool;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The HTTP/1.1 codec of a backend connection: a request encoder and a response decoder that know which request each
 * response answers (one at a time), so that a backend's bytes are taken only as the response to a request:
 *
 * <ul>
 *   <li>a response to {@code HEAD} has no body, whatever its headers say;
 *   <li>bytes that arrive when no response is due (after a response ended, before the next request was written) close
 *       the connection: they are a backend that sent more than its framing said, and must reach no client;
 *   <li>{@link #holdsUnreadBytes()} tells, as a response ends, whether more bytes came with it, in which case the
 *       connection must not be reused;
 *   <li>a head that Netty's lenient response parser would take but that is not HTTP/1.1 is refused as malformed (a
 *       failed {@link HttpResponse}, the rest of the connection's bytes dropped): a header line without a colon
 *       (Netty would pass {@code Transfer-Encoding chunked} on as an empty {@code Transfer-Encoding}), and a
 *       {@code Transfer-Encoding} other than {@code chunked} alone (with a {@code Content-Length}, a message the
 *       client could frame either way; without one, a coding lb does not undo).
 * </ul>
 *
 * <p>Interim responses ({@code 1xx}) do not end the wait for the final one; after a {@code 101} the decoder passes the
 * bytes that follow through for the tunnel.
 */
public final class BackendCodec extends CombinedChannelDuplexHandler<BackendCodec.Decoder, BackendCodec.Encoder> {
  private final Decoder decoder;
  /** A request was written whose final response has not ended yet. */
  private boolean awaiting;
  /** The next bytes belong to a response head (not to a body, nor to a tunnel). */
  private boolean inHead;
  /** Complete lines of the current head already checked (the decoder has consumed them). */
  private int headLines;
  /** A head was refused: whatever else the backend sends is dropped; the connection is not used again. */
  private boolean refused;
  private boolean headRequest;
  /** The response being decoded is an interim one ({@code 1xx} but {@code 101}): the final one is still due. */
  private boolean interim;
  /** The response being decoded is a {@code 101}: what follows is not HTTP. */
  private boolean switching;
  /** Whether plain heads are relayed as their bytes ({@link RawResponse}); else every head is decoded. */
  private final boolean rawHeads;
  private final int maxLine;
  private final int maxFields;
  private final HeadScanner scanner = new HeadScanner();
  /** The current head was left to Netty's decoder: it decodes the rest of this response. */
  private boolean decodedHead;
  /** Body bytes still due after a {@link RawResponse}, or -1 when the response is not relayed as bytes. */
  private long rawRemaining = -1;
  /** Follows the chunked body of the {@link RawResponse} being relayed; null when there is none. */
  private @Nullable ChunkTracker chunks;
  /** The request written was sent as HTTP/1.0: its client takes no chunked body as it is. */
  private boolean http10Request;
  /** The request written wants its response decoded ({@link DecodedResponse}). */
  private boolean decodeThis;

  public BackendCodec(HttpDecoderConfig config) {
    this(config, false);
  }

  /**
   * @param rawHeads whether heads {@link HeadScanner} accepts are relayed as their bytes, with their bodies in
   *     retained slices, instead of being decoded
   */
  public BackendCodec(HttpDecoderConfig config, boolean rawHeads) {
    Decoder d = new Decoder(config);
    this.decoder = d;
    this.rawHeads = rawHeads;
    this.maxLine = config.getMaxInitialLineLength();
    this.maxFields = config.getMaxHeaderSize();
    init(d, new Encoder());
  }

  /** Whether the decoder holds bytes it has not decoded yet (read with, or after, what was decoded). */
  public boolean holdsUnreadBytes() {
    return decoder.unread() > 0;
  }

  /** Decodes responses; see the codec. */
  final class Decoder extends HttpResponseDecoder {
    Decoder(HttpDecoderConfig config) {
      super(config);
    }

    int unread() {
      return actualReadableBytes();
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
      if (!awaiting) {
        if (buffer.isReadable()) {
          // No response is due: nobody asked for these bytes.
          buffer.skipBytes(buffer.readableBytes());
          ctx.close();
        }
        return;
      }
      if (refused) {
        buffer.skipBytes(buffer.readableBytes());
        return;
      }
      if (chunks != null) {
        relayChunks(chunks, buffer, out);
        return;
      }
      if (rawRemaining >= 0) {
        relayBody(buffer, out);
        return;
      }
      if (rawHeads && !decodeThis && inHead && !decodedHead && headLines == 0) {
        RawResponse raw = scanner.scan(buffer, maxLine, maxFields, headRequest, !http10Request);
        if (raw != null) {
          buffer.skipBytes(raw.headLength());
          inHead = false;
          out.add(raw);
          if (raw.contentLength() < 0) {
            ChunkTracker tracker = chunks = new ChunkTracker(maxLine, maxFields);
            relayChunks(tracker, buffer, out);
          } else {
            rawRemaining = raw.contentLength();
            relayBody(buffer, out);
          }
          return;
        }
        if (scanner.outcome() == HeadScanner.Outcome.MORE) {
          return;
        }
        decodedHead = true;
      }
      String bad = inHead ? checkHeadLines(buffer) : null;
      if (bad != null) {
        refuse(buffer, out, out.size(), bad);
        return;
      }
      int before = out.size();
      super.decode(ctx, buffer, out);
      for (int i = before; i < out.size(); i++) {
        Object msg = out.get(i);
        if (msg instanceof HttpResponse) {
          HttpResponse response = (HttpResponse) msg;
          bad = response.decoderResult().isSuccess() ? checkFraming(response) : null;
          if (bad != null) {
            refuse(buffer, out, i, bad);
            return;
          }
          int code = response.status().code();
          interim = code >= 100 && code < 200 && code != 101;
          switching = code == 101;
          inHead = false;
        }
        if (msg instanceof LastHttpContent) {
          if (!interim && !switching) {
            awaiting = false;
          }
          // After an interim response, the final one's head comes next.
          inHead = interim;
          headLines = 0;
          decodedHead = false;
        }
      }
    }

    /** Passes on what arrived of a {@link RawResponse}'s body, as retained slices; the last piece ends it. */
    private void relayBody(ByteBuf buffer, List<Object> out) {
      long due = rawRemaining;
      if (due == 0) {
        out.add(LastHttpContent.EMPTY_LAST_CONTENT);
      } else {
        int n = (int) Math.min(buffer.readableBytes(), due);
        if (n == 0) {
          return;
        }
        ByteBuf piece = buffer.readRetainedSlice(n);
        due -= n;
        out.add(due == 0 ? new RawLastContent(piece) : new DefaultHttpContent(piece));
        if (due > 0) {
          rawRemaining = due;
          return;
        }
      }
      rawRemaining = -1;
      awaiting = false;
      headLines = 0;
    }

    /**
     * Passes on what arrived of a {@link RawResponse}'s chunked body as retained slices, framing included, as far as
     * {@code tracker} has checked it; the piece with the last chunk and the trailer section ends it. Malformed framing
     * ends it with a failed last piece, as the decoder's failure does, and drops whatever else the backend sends.
     */
    private void relayChunks(ChunkTracker tracker, ByteBuf buffer, List<Object> out) {
      int from = buffer.readerIndex();
      int upTo = tracker.advance(buffer);
      String bad = tracker.failure();
      if (tracker.done()) {
        ByteBuf piece = tracker.trailersToFilter() < 0
            ? buffer.readRetainedSlice(upTo - from) : withoutForbiddenTrailers(tracker, buffer, upTo);
        out.add(new RawLastContent(piece, tracker.takeData()));
        chunks = null;
        awaiting = false;
        headLines = 0;
        return;
      }
      if (upTo > from) {
        out.add(new RawContent(buffer.readRetainedSlice(upTo - from), tracker.takeData()));
      }
      if (bad != null) {
        buffer.skipBytes(buffer.readableBytes());
        refused = true;
        chunks = null;
        LastHttpContent failed = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
        failed.setDecoderResult(DecoderResult.failure(new IllegalArgumentException("malformed chunked body: " + bad)));
        out.add(failed);
      }
    }

    /** The rest of a chunked body up to {@code upTo}, copied without its trailer lines {@link TrailerFields} forbids. */
    private ByteBuf withoutForbiddenTrailers(ChunkTracker tracker, ByteBuf buffer, int upTo) {
      int start = tracker.trailersToFilter();
      int end = tracker.trailersEnd();
      ByteBuf piece = buffer.alloc().buffer(upTo - buffer.readerIndex());
      piece.writeBytes(buffer, buffer.readerIndex(), start - buffer.readerIndex());
      for (int line = start; line < end; ) {
        int next = buffer.indexOf(line, end, (byte) '\n') + 1;
        int colon = buffer.indexOf(line, next, (byte) ':');
        if (!TrailerFields.forbidden(buffer, line, colon - line)) {
          piece.writeBytes(buffer, line, next - line);
        }
        line = next;
      }
      piece.writeBytes(buffer, end, upTo - end);
      buffer.readerIndex(upTo);
      return piece;
    }

    /**
     * Checks the complete lines of the head at the start of {@code buffer} that were not checked yet (the decoder
     * consumes a head line by line, so unchecked lines always start at the reader index).
     *
     * @return why the head is not HTTP/1.1, or null when every complete line is acceptable so far
     */
    private @Nullable String checkHeadLines(ByteBuf buffer) {
      int i = buffer.readerIndex();
      int end = buffer.writerIndex();
      if (headLines == 0) {
        // As the decoder does, skip what precedes the status line.
        while (i < end && (buffer.getByte(i) & 0xff) <= ' ') {
          i++;
        }
      }
      while (i < end) {
        int lf = buffer.indexOf(i, end, (byte) '\n');
        if (lf < 0) {
          return null;
        }
        int lineEnd = lf > i && buffer.getByte(lf - 1) == '\r' ? lf - 1 : lf;
        if (headLines++ > 0) {
          if (lineEnd == i) {
            return null;   // the empty line: the head ends, a body may follow
          }
          byte first = buffer.getByte(i);
          // A continuation line (obs-fold) has no colon of its own; the decoder joins it to the field before.
          if (first != ' ' && first != '\t' && buffer.indexOf(i, lineEnd, (byte) ':') < 0) {
            return "a header line without a colon";
          }
        }
        i = lf + 1;
      }
      return null;
    }

    /** Why a decoded response head's framing is refused, or null. */
    private @Nullable String checkFraming(HttpResponse response) {
      List<String> codings = response.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING);
      if (codings.isEmpty() || codings.size() == 1 && HttpHeaderValues.CHUNKED.contentEqualsIgnoreCase(
          codings.get(0).trim())) {
        return null;
      }
      return "Transfer-Encoding " + codings + " (only chunked is accepted)";
    }

    /**
     * Replaces what was decoded from index {@code from} on with a failed response head, drops the rest of the
     * buffer, and from now on every byte the backend sends.
     */
    private void refuse(ByteBuf buffer, List<Object> out, int from, String why) {
      while (out.size() > from) {
        ReferenceCountUtil.release(out.remove(out.size() - 1));
      }
      buffer.skipBytes(buffer.readableBytes());
      refused = true;
      inHead = false;
      HttpResponse failed = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_GATEWAY);
      failed.setDecoderResult(DecoderResult.failure(new IllegalArgumentException("malformed response: " + why)));
      out.add(failed);
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage msg) {
      if (headRequest && msg instanceof HttpResponse && ((HttpResponse) msg).status().code() >= 200) {
        return true;
      }
      return super.isContentAlwaysEmpty(msg);
    }
  }

  /** Encodes requests, noting each one as the start of a wait for its response. */
  final class Encoder extends HttpRequestEncoder {
    /** A {@link RawRequest} was written as its bytes: its last (empty) piece is still due. */
    private boolean rawRequest;

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
      if (msg instanceof HttpRequest) {
        awaiting = true;
        inHead = true;
        headLines = 0;
        interim = false;
        switching = false;
        decodedHead = false;
        rawRemaining = -1;
        headRequest = HttpMethod.HEAD.equals(((HttpRequest) msg).method());
        http10Request = ((HttpRequest) msg).protocolVersion().minorVersion() == 0;
        decodeThis = msg instanceof DecodedResponse;
        chunks = null;
        rawRequest = false;
        if (msg instanceof RawRequest && !((RawRequest) msg).decoded()) {
          RawRequest raw = (RawRequest) msg;
          ByteBuf out = ctx.alloc().buffer(raw.estimatedSize());
          raw.writeTo(out);
          rawRequest = true;
          ctx.write(out, promise);
          return;
        }
      }
      if (rawRequest && msg instanceof LastHttpContent) {
        // A raw request is bodiless: its empty last piece (the only one) has nothing to write.
        rawRequest = false;
        ReferenceCountUtil.release(msg);
        ctx.write(Unpooled.EMPTY_BUFFER, promise);
        return;
      }
      super.write(ctx, msg, promise);
    }
  }
}
