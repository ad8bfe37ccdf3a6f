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
  private final boolean chunked;
  private final boolean keepAlive;
  /** Where the status line ends (after its CRLF) in {@link #head}. */
  private final int statusEnd;
  /** Bit i set: field line i (the first after the status line is 1) is left out. */
  private final long dropped;
  /**
   * The fields lb sets through {@link #set}: the first two in place (a response usually gets {@code X-Request-Id} and
   * at most {@code Connection}), any more in an array made at the third.
   */
  private @Nullable AsciiString name0;
  private @Nullable AsciiString name1;
  private @Nullable CharSequence value0;
  private @Nullable CharSequence value1;
  private Object @Nullable [] more;
  /** How many fields {@link #set} holds. */
  private int fieldCount;
  /** The fields other handlers set through {@link #headers()}; made at the first call. */
  private @Nullable HttpHeaders set;
  private HttpVersion version;
  private DecoderResult result = DecoderResult.SUCCESS;

  RawResponse(ByteBuf head, HttpVersion version, HttpResponseStatus status, long contentLength, boolean chunked,
      boolean keepAlive, int statusEnd, long dropped) {
    this.chunked = chunked;
    this.head = head;
    this.version = version;
    this.status = status;
    this.contentLength = contentLength;
    this.keepAlive = keepAlive;
    this.statusEnd = statusEnd;
    this.dropped = dropped;
  }

  /** How many bytes the head took as received. */
  public int headLength() {
    return head.readableBytes();
  }

  /** Whether the body is framed by {@code Transfer-Encoding: chunked} (and then relayed with its framing). */
  public boolean chunked() {
    return chunked;
  }

  /**
   * The body's length from {@code Content-Length} (0 for an answer to {@code HEAD}, whatever the fields say), or -1
   * for a chunked body.
   */
  public long contentLength() {
    return contentLength;
  }

  /** Whether the backend keeps the connection open after this response ({@code Connection} and the version). */
  public boolean keepAlive() {
    return keepAlive;
  }

  /**
   * Sets a field, replacing the received lines of its name and an earlier value set here; written before the fields
   * set through {@link #headers()}. Allocates one small array for a response, instead of a header map.
   */
  public void set(AsciiString name, CharSequence value) {
    for (int i = 0; i < fieldCount; i++) {
      if (name.contentEqualsIgnoreCase(name(i))) {
        setValue(i, value);
        return;
      }
    }
    int i = fieldCount++;
    if (i == 0) {
      name0 = name;
      value0 = value;
    } else if (i == 1) {
      name1 = name;
      value1 = value;
    } else {
      Object[] m = more;
      int at = (i - 2) * 2;
      if (m == null || at == m.length) {
        Object[] grown = new Object[m == null ? 4 : m.length * 2];
        if (m != null) {
          System.arraycopy(m, 0, grown, 0, m.length);
        }
        m = more = grown;
      }
      m[at] = name;
      m[at + 1] = value;
    }
  }

  private CharSequence name(int i) {
    return i == 0 ? name0 : i == 1 ? name1 : (CharSequence) more[(i - 2) * 2];
  }

  private CharSequence value(int i) {
    return i == 0 ? value0 : i == 1 ? value1 : (CharSequence) more[(i - 2) * 2 + 1];
  }

  private void setValue(int i, CharSequence value) {
    if (i == 0) {
      value0 = value;
    } else if (i == 1) {
      value1 = value;
    } else {
      more[(i - 2) * 2 + 1] = value;
    }
  }

  /**
   * The fields other code sets on the response, <em>not the received ones</em>; each replaces the received lines of
   * its name when written, after the fields set through {@link #set}.
   */
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
    return head.readableBytes() + 2 + 64 * (fieldCount + (set == null ? 0 : set.size()));
  }

  /**
   * Writes the head to {@code out} as the client receives it: {@code HTTP/1.1}, the received status line's code and
   * reason, the received fields less the dropped lines and those set here, then the fields set here, then the empty
   * line.
   */
  public void writeTo(ByteBuf out) {
    CharSequence[] others = null;
    HttpHeaders h = set;
    if (h != null && !h.isEmpty()) {
      others = new CharSequence[h.size()];
      int n = 0;
      for (Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence(); it.hasNext(); ) {
        others[n++] = it.next().getKey();
      }
    }
    out.writeBytes(HTTP_1_1);
    out.writeBytes(head, HTTP_1_1.length, statusEnd - HTTP_1_1.length);
    int end = head.writerIndex() - 2;   // the empty line
    int line = 1;
    for (int at = statusEnd; at < end; line++) {
      int next = head.indexOf(at, end, (byte) '\n') + 1;
      if ((dropped & (1L << line)) == 0 && !replaced(others, at, next)) {
        out.writeBytes(head, at, next - at);
      }
      at = next;
    }
    for (int i = 0; i < fieldCount; i++) {
      writeField(out, name(i), value(i));
    }
    if (others != null) {
      for (Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence(); it.hasNext(); ) {
        Map.Entry<CharSequence, CharSequence> e = it.next();
        writeField(out, e.getKey(), e.getValue());
      }
    }
    out.writeByte('\r');
    out.writeByte('\n');
  }

  private static void writeField(ByteBuf out, CharSequence name, CharSequence value) {
    ByteBufUtil.writeAscii(out, name);
    out.writeByte(':');
    out.writeByte(' ');
    ByteBufUtil.writeAscii(out, value);
    out.writeByte('\r');
    out.writeByte('\n');
  }

  /** Whether the field on the line [start, end) is set here or has one of {@code others}' names. */
  private boolean replaced(CharSequence @Nullable [] others, int start, int end) {
    if (fieldCount == 0 && others == null) {
      return false;
    }
    int length = head.indexOf(start, end, (byte) ':') - start;
    for (int i = 0; i < fieldCount; i++) {
      CharSequence name = name(i);
      if (name.length() == length && HeadBytes.is(head, start, name)) {
        return true;
      }
    }
    if (others != null) {
      for (CharSequence name : others) {
        if (name.length() == length && HeadBytes.is(head, start, name)) {
          return true;
        }
      }
    }
    return false;
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
