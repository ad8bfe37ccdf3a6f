package dev.lb.proxy;

import dev.lb.pool.RawRequest;
import dev.lb.pool.RawResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The HTTP/1.x codec of a client connection: Netty's {@code HttpServerCodec} (whose decoder cannot be extended), with
 * a request decoder that reads the request line strictly. Netty splits a request line on any run of SP, HTAB, VT, FF
 * or CR and skips any whitespace or control bytes before it; RFC 9112 section 3 allows the first leniency only while
 * warning that it enables request smuggling, and section 2.2 allows only empty lines before a request. So a request
 * line here must be {@code method SP request-target SP HTTP-version}, with nothing but CRLF (or LF) before it;
 * anything else is decoded as a failed request, which {@link RequestGuard} answers with 400 and a close. The check
 * costs two byte comparisons per separator, on the bytes the decoder already split, and one on the first byte of
 * each request; it allocates nothing for a valid request.
 *
 * <p>As {@code HttpServerCodec} does, the codec remembers each request's method (two bits each, up to
 * {@value #MAX_PIPELINE_DEPTH} pipelined requests) so that the answer to {@code HEAD} has no body and a {@code 2xx}
 * to {@code CONNECT} no {@code Transfer-Encoding}; a deeper pipeline, or a request framed by both
 * {@code Transfer-Encoding} and {@code Content-Length}, closes the connection after its answer.
 *
 * <p>Buffers: the decoder releases what it reads and passes decoded messages on; the encoder encodes and releases
 * what it is given.
 */
public final class FrontendCodec extends CombinedChannelDuplexHandler<FrontendCodec.Decoder, FrontendCodec.Encoder> {
  /** Requests whose answers may be pending at once, as in {@code HttpServerCodec}. */
  static final int MAX_PIPELINE_DEPTH = 128;

  private static final byte HEAD = 1;
  private static final byte CONNECT = 2;
  private static final byte OTHER = 3;
  private static final int INLINE_METHODS = 32;

  /** Pending methods, two bits each, the oldest in the low bits. */
  private long methods;
  private int inlineMethods;
  private @Nullable ArrayDeque<Byte> moreMethods;
  private boolean closeAfterResponse;

  /**
   * Whether plain bodiless request heads are forwarded as their bytes ({@link RawRequest});
   * {@code -Dlb.rawRequests=false} decodes every head, for comparison.
   */
  static final boolean RAW_REQUESTS = !"false".equals(System.getProperty("lb.rawRequests"));

  public FrontendCodec(HttpDecoderConfig config) {
    this(config, RAW_REQUESTS);
  }

  /**
   * @param rawRequests whether heads {@link RequestScanner} accepts are passed on as {@link RawRequest}s instead of
   *     being decoded
   */
  public FrontendCodec(HttpDecoderConfig config, boolean rawRequests) {
    init(new Decoder(config, rawRequests), new Encoder());
  }

  private boolean enqueue(HttpMethod method) {
    ArrayDeque<Byte> more = moreMethods;
    if (inlineMethods + (more == null ? 0 : more.size()) >= MAX_PIPELINE_DEPTH) {
      return false;
    }
    byte flag = HttpMethod.HEAD.equals(method) ? HEAD : HttpMethod.CONNECT.equals(method) ? CONNECT : OTHER;
    if (more != null) {
      more.add(flag);
    } else if (inlineMethods < INLINE_METHODS) {
      methods |= (long) flag << (inlineMethods << 1);
      inlineMethods++;
    } else {
      more = new ArrayDeque<>(4);
      more.add(flag);
      moreMethods = more;
    }
    return true;
  }

  private byte poll() {
    if (inlineMethods != 0) {
      byte flag = (byte) (methods & 3);
      methods >>>= 2;
      inlineMethods--;
      return flag;
    }
    ArrayDeque<Byte> more = moreMethods;
    if (more != null) {
      Byte flag = more.poll();
      if (more.isEmpty()) {
        moreMethods = null;
      }
      return flag == null ? OTHER : flag;
    }
    return OTHER;
  }

  /** Decodes requests; see the codec. */
  public final class Decoder extends HttpRequestDecoder {
    /** The next bytes start a request (empty lines aside): the first one must be the method's. */
    private boolean atRequestStart = true;
    /** A request failed to decode: Netty drops the rest, and nothing more is checked. */
    private boolean failed;
    /** A request start was refused, or the pipeline grew too deep: every later byte is dropped. */
    private boolean discard;
    private final boolean rawRequests;
    private final RequestScanner scanner = new RequestScanner();
    private final int maxLine;
    private final int maxFields;
    /**
     * Netty's decoder is between requests and holds no bytes of the next one: only then may the scanner take a head
     * (once the decoder has started on one, it decodes that request to its end).
     */
    private boolean nettyIdle = true;
    /** The connection ended: what is left goes to Netty's decoder, which reports an unfinished request. */
    private boolean closing;

    Decoder(HttpDecoderConfig config, boolean rawRequests) {
      super(config);
      this.rawRequests = rawRequests;
      this.maxLine = config.getMaxInitialLineLength();
      this.maxFields = config.getMaxHeaderSize();
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
      if (discard) {
        buffer.skipBytes(buffer.readableBytes());
        return;
      }
      if (rawRequests && nettyIdle && !failed && !closing) {
        RawRequest raw = scanner.scan(buffer, maxLine, maxFields);
        if (raw != null) {
          buffer.skipBytes(raw.headLength());
          atRequestStart = true;
          if (!enqueue(raw.method())) {
            tooDeep(buffer);
          }
          out.add(raw);
          out.add(LastHttpContent.EMPTY_LAST_CONTENT);
          return;
        }
        if (scanner.outcome() == RequestScanner.Outcome.MORE) {
          return;
        }
      }
      nettyIdle = false;
      int before = out.size();
      if (atRequestStart && !failed && !startsRequestLine(buffer)) {
        // As Netty does after a bad message: the rest of the connection's bytes are dropped.
        buffer.skipBytes(buffer.readableBytes());
        discard = true;
        HttpMessage invalid = createInvalidMessage();
        invalid.setDecoderResult(DecoderResult.failure(
            new IllegalArgumentException("request line: whitespace or control bytes before the method")));
        out.add(invalid);
      } else {
        super.decode(ctx, buffer, out);
      }
      for (int i = before; i < out.size(); i++) {
        HttpObject msg = (HttpObject) out.get(i);
        if (msg.decoderResult().isFailure()) {
          failed = true;
        }
        if (msg instanceof HttpRequest) {
          atRequestStart = false;
          if (!enqueue(((HttpRequest) msg).method())) {
            for (int j = out.size() - 1; j >= before; j--) {
              ReferenceCountUtil.release(out.remove(j));
            }
            tooDeep(buffer);
          }
        }
        if (msg instanceof LastHttpContent) {
          atRequestStart = true;
          nettyIdle = true;
        }
      }
    }

    /** The pipeline grew too deep: the answers pending go out, then the connection closes. */
    private void tooDeep(ByteBuf buffer) {
      closeAfterResponse = true;
      discard = true;
      buffer.skipBytes(buffer.readableBytes());
      throw new IllegalStateException("more than " + MAX_PIPELINE_DEPTH + " pipelined requests");
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
      closing = true;
      super.decodeLast(ctx, in, out);
    }

    /**
     * Whether the bytes at the reader index may start a request: empty lines (CRLF or LF) may come first (RFC 9112
     * 2.2); the first other byte must be visible ASCII, not whitespace or a control the decoder would skip. True as
     * well while no such byte has arrived; the decoder consumes the empty lines itself.
     */
    private boolean startsRequestLine(ByteBuf buffer) {
      int i = buffer.readerIndex();
      int end = buffer.writerIndex();
      while (i < end) {
        byte b = buffer.getByte(i);
        if (b == '\n') {
          i++;
        } else if (b == '\r') {
          if (i + 1 == end) {
            return true;
          }
          if (buffer.getByte(i + 1) != '\n') {
            return false;
          }
          i += 2;
        } else {
          if (b <= ' ' || b >= 0x7f) {
            return false;
          }
          atRequestStart = false;
          return true;
        }
      }
      return true;
    }

    @Override
    protected String splitSecondWordInitialLine(byte[] line, int start, int length) {
      if (length > 0) {
        // After a method of at least one byte, so start - 2 is still on the line.
        checkSeparator(line, start);
      }
      return super.splitSecondWordInitialLine(line, start, length);
    }

    @Override
    protected String splitThirdWordInitialLine(byte[] line, int start, int length) {
      // Called only when a third part exists, after a method and a separator: start - 2 is on the line.
      checkSeparator(line, start);
      return super.splitThirdWordInitialLine(line, start, length);
    }

    /**
     * Netty found the part starting at {@code start} after a run of SP, HTAB, VT, FF or CR; the run must be one SP.
     * The byte before the separator belongs to the previous part unless the run is longer.
     */
    private void checkSeparator(byte[] line, int start) {
      if (line[start - 1] != ' ' || isLenientSeparator(line[start - 2])) {
        throw new IllegalArgumentException("request line: parts must be separated by a single space");
      }
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
      super.handleTransferEncodingChunkedWithContentLength(message);
      closeAfterResponse = true;
    }
  }

  /** What Netty's request line parser takes as a separator. */
  static boolean isLenientSeparator(byte b) {
    return b == ' ' || b == '\t' || b == 0x0b || b == 0x0c || b == '\r';
  }

  /**
   * Encodes responses, matching each final one to its request's method. A {@link RawResponse} is written as the
   * bytes it arrived in (with lb's changes), and its body pieces, until the last, as their buffers.
   */
  public final class Encoder extends HttpResponseEncoder {
    private byte method;
    /** A raw head was written: body pieces go out as their bytes until the last one. */
    private boolean rawBody;

    Encoder() {}

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
      if (closeAfterResponse && msg instanceof LastHttpContent) {
        closeAfterResponse = false;
        promise = promise.unvoid();
        promise.addListener(ChannelFutureListener.CLOSE);
      }
      if (msg instanceof RawResponse) {
        writeRaw(ctx, (RawResponse) msg, promise);
      } else if (rawBody && msg instanceof HttpContent) {
        writeRawContent(ctx, (HttpContent) msg, promise);
      } else {
        super.write(ctx, msg, promise);
      }
    }

    private void writeRaw(ChannelHandlerContext ctx, RawResponse raw, ChannelPromise promise) {
      // A raw head is always a final one, framed by Content-Length or chunked for an HTTP/1.1 client (the scanner
      // takes no other): its bytes and its body go out as they came.
      method = poll();
      ByteBuf out;
      try {
        out = ctx.alloc().buffer(raw.estimatedSize());
        raw.writeTo(out);
      } finally {
        raw.release();
      }
      rawBody = true;
      ctx.write(out, promise);
    }

    private void writeRawContent(ChannelHandlerContext ctx, HttpContent content, ChannelPromise promise) {
      if (content instanceof LastHttpContent) {
        rawBody = false;
      }
      ByteBuf bytes = content.content();
      if (method == HEAD || !bytes.isReadable()) {
        // The answer to HEAD has no body, whatever was framed (the backend sends none; as the encoder would).
        content.release();
        ctx.write(Unpooled.EMPTY_BUFFER, promise);
      } else {
        ctx.write(bytes, promise);
      }
    }

    @Override
    protected void sanitizeHeadersBeforeEncode(HttpResponse msg, boolean isAlwaysEmpty) {
      if (!isAlwaysEmpty && method == CONNECT && msg.status().codeClass() == HttpStatusClass.SUCCESS) {
        // RFC 9112 6.1: a 2xx to CONNECT has no framing; a tunnel follows.
        msg.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
        return;
      }
      super.sanitizeHeadersBeforeEncode(msg, isAlwaysEmpty);
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpResponse msg) {
      if (msg.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
        // An interim response answers no request by itself: the method stays for the final one.
        return super.isContentAlwaysEmpty(msg);
      }
      method = poll();
      return method == HEAD || super.isContentAlwaysEmpty(msg);
    }
  }
}
