package dev.lb.pool;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.AsciiString;
import java.util.Iterator;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A backend's final response head kept as the bytes it arrived in, for the common case {@link BackendCodec} can
 * vouch for byte by byte (see {@link HeadScanner}): relaying it costs one copy of those bytes instead of decoding
 * every field into objects and encoding them again.
 *
 * <p>What lb changes travels beside the bytes: the hop-by-hop lines the scanner marked are left out when the head is
 * written, and {@link #headers()} holds <em>only the fields lb sets</em> ({@code X-Request-Id}, {@code Connection},
 * {@code RateLimit-*}): each replaces the received lines of the same name. Code that needs the backend's fields reads
 * the facts the scanner extracted ({@link #contentLength()}, {@link #keepAlive()}); nothing on lb's response path
 * reads a backend field by name.
 *
 * <p>Holds a retained slice of the backend's read buffer: whoever ends up with it releases it (the client's encoder
 * after writing it, or the relay when it drops it).
 */
public final class RawResponse extends AbstractReferenceCounted implements HttpResponse {
  private static final byte[] HTTP_1_1 = {'H', 'T', 'T', 'P', '/', '1', '.', '1'};

  private final ByteBuf head;
  private final HttpResponseStatus status;
  private final long contentLength;
  private final boolean keepAlive;
  /** Offsets in {@link #head}: for line i, its start at [2i] and its end (after CRLF) at [2i+1]; line 0 is the status. */
  private final int[] lines;
  private final int lineCount;
  /** Bit i set: header line i (1-based, as in {@link #lines}) is left out. */
  private final long dropped;
  private @Nullable HttpHeaders set;
  private HttpVersion version;
  private DecoderResult result = DecoderResult.SUCCESS;

  RawResponse(ByteBuf head, HttpVersion version, HttpResponseStatus status, long contentLength, boolean keepAlive,
      int[] lines, int lineCount, long dropped) {
    this.head = head;
    this.version = version;
    this.status = status;
    this.contentLength = contentLength;
    this.keepAlive = keepAlive;
    this.lines = lines;
    this.lineCount = lineCount;
    this.dropped = dropped;
  }

  /** How many bytes the head took as received. */
  public int headLength() {
    return head.readableBytes();
  }

  /** The body's length from {@code Content-Length} (0 for an answer to {@code HEAD}, whatever the field says). */
  public long contentLength() {
    return contentLength;
  }

  /** Whether the backend keeps the connection open after this response ({@code Connection} and the version). */
  public boolean keepAlive() {
    return keepAlive;
  }

  /** The fields lb sets on the response; each replaces the received lines of its name when written. */
  @Override
  public HttpHeaders headers() {
    HttpHeaders h = set;
    if (h == null) {
      h = set = DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders();
    }
    return h;
  }

  /** The head's length once written: the received bytes less the dropped lines, plus what lb sets (an estimate). */
  public int estimatedSize() {
    return head.readableBytes() + (set == null ? 2 : 2 + 64 * set.size());
  }

  /**
   * Writes the head to {@code out} as the client receives it: {@code HTTP/1.1}, the received status line's code and
   * reason, the received fields less the dropped lines and those lb sets, then lb's fields, then the empty line.
   */
  public void writeTo(ByteBuf out) {
    HttpHeaders h = set;
    CharSequence[] names = null;
    if (h != null && !h.isEmpty()) {
      names = new CharSequence[h.size()];
      int n = 0;
      for (Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence(); it.hasNext(); ) {
        names[n++] = it.next().getKey();
      }
    }
    out.writeBytes(HTTP_1_1);
    int statusStart = lines[0] + HTTP_1_1.length;
    out.writeBytes(head, statusStart, lines[1] - statusStart);
    for (int i = 1; i < lineCount; i++) {
      if ((dropped & (1L << i)) != 0) {
        continue;
      }
      int start = lines[2 * i];
      int end = lines[2 * i + 1];
      if (names != null && replaced(names, start, end)) {
        continue;
      }
      out.writeBytes(head, start, end - start);
    }
    if (h != null) {
      Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence();
      while (it.hasNext()) {
        Map.Entry<CharSequence, CharSequence> e = it.next();
        ByteBufUtil.writeAscii(out, e.getKey());
        out.writeByte(':');
        out.writeByte(' ');
        ByteBufUtil.writeAscii(out, e.getValue());
        out.writeByte('\r');
        out.writeByte('\n');
      }
    }
    out.writeByte('\r');
    out.writeByte('\n');
  }

  /** Whether the field on the line [start, end) has one of {@code names}. */
  private boolean replaced(CharSequence[] names, int start, int end) {
    int length = head.indexOf(start, end, (byte) ':') - start;
    for (CharSequence name : names) {
      if (name.length() == length && sameName(start, name)) {
        return true;
      }
    }
    return false;
  }

  private boolean sameName(int start, CharSequence name) {
    for (int i = 0; i < name.length(); i++) {
      if (AsciiString.toLowerCase((char) (head.getByte(start + i) & 0xff)) != AsciiString.toLowerCase(name.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public HttpResponseStatus status() {
    return status;
  }

  @Override
  @Deprecated
  public HttpResponseStatus getStatus() {
    return status;
  }

  @Override
  public HttpResponse setStatus(HttpResponseStatus status) {
    throw new UnsupportedOperationException("a received response keeps its status");
  }

  @Override
  public HttpVersion protocolVersion() {
    return version;
  }

  @Override
  @Deprecated
  public HttpVersion getProtocolVersion() {
    return version;
  }

  /** The version written is always HTTP/1.1; this records what the relay asked for. */
  @Override
  public HttpResponse setProtocolVersion(HttpVersion version) {
    this.version = version;
    return this;
  }

  @Override
  public DecoderResult decoderResult() {
    return result;
  }

  @Override
  @Deprecated
  public DecoderResult getDecoderResult() {
    return result;
  }

  @Override
  public void setDecoderResult(DecoderResult result) {
    this.result = result;
  }

  @Override
  protected void deallocate() {
    head.release();
  }

  @Override
  public RawResponse touch(Object hint) {
    head.touch(hint);
    return this;
  }

  @Override
  public String toString() {
    return "RawResponse(" + status + ", " + head.readableBytes() + " bytes)";
  }
}
