package dev.lb.pool;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import org.jspecify.annotations.Nullable;

/**
 * Reads a backend's response head in place and decides whether it can be relayed as its bytes
 * ({@link RawResponse}). It takes only the plainest heads, and leaves every other one to Netty's decoder and
 * {@link BackendCodec}'s checks, which then decide exactly as before:
 *
 * <ul>
 *   <li>a status line {@code HTTP/1.1} or {@code HTTP/1.0}, one SP, a final status 200-599 other than 204, 205 and
 *       304, one SP, and a reason of visible ASCII, SP and HTAB, with nothing before it;
 *   <li>at most {@value #MAX_LINES} fields, each {@code token ":" value CRLF} with no space before the colon, no
 *       continuation line, and a value of visible ASCII, SP and HTAB;
 *   <li>exactly one {@code Content-Length} of 1 to 18 digits and no {@code Transfer-Encoding}, or (when the client
 *       can take it) one {@code Transfer-Encoding: chunked} and no {@code Content-Length}: the body's bytes are then
 *       followed by a {@link ChunkTracker} and relayed as they are;
 *   <li>{@code Connection} with only {@code close} and {@code keep-alive} in it (a field named there would have to be
 *       removed too).
 * </ul>
 *
 * <p>The hop-by-hop lines ({@code Connection}, {@code Keep-Alive}, {@code Proxy-Connection}, {@code TE},
 * {@code Upgrade}) are marked to be left out, as {@code ForwardedHeaders.rewriteResponse} removes them from decoded
 * heads. The scan allocates nothing for a head it declines.
 */
final class HeadScanner {
  /** The scan's outcomes besides a head. */
  enum Outcome { HEAD, MORE, DECLINED }

  /** Most fields a head may have to be relayed as bytes (one bit each in {@link RawResponse}'s mask). */
  static final int MAX_LINES = 62;

  private static final byte[] HTTP_1 = {'H', 'T', 'T', 'P', '/', '1', '.'};
  private Outcome outcome = Outcome.DECLINED;

  /** What the last {@link #scan} found: a head, more bytes needed, or a head it leaves to the decoder. */
  Outcome outcome() {
    return outcome;
  }

  /**
   * Scans the bytes readable in {@code buf}, which must start with the head. Consumes nothing.
   *
   * @param maxLine the most bytes the status line may take; a longer one is declined (the decoder refuses it)
   * @param maxFields the most bytes the field lines may take, counted with their CRLFs (the decoder counts less, so
   *     whatever is taken here the decoder would have taken); more is declined (the decoder refuses it)
   * @param headRequest whether the response answers {@code HEAD} (its body is empty whatever it says)
   * @param chunkedOk whether a body framed by {@code Transfer-Encoding: chunked} may be relayed as its bytes (not to
   *     an HTTP/1.0 client, which must get it unchunked)
   * @return the head as a retained slice of {@code buf} with the facts the relay needs, or null when
   *     {@link #outcome()} says {@code MORE} or {@code DECLINED}
   */
  @Nullable RawResponse scan(ByteBuf buf, int maxLine, int maxFields, boolean headRequest, boolean chunkedOk) {
    int start = buf.readerIndex();
    outcome = Outcome.DECLINED;
    // The status line.
    int available = buf.writerIndex() - start;
    for (int i = 0; i < HTTP_1.length && i < available; i++) {
      if (buf.getByte(start + i) != HTTP_1[i]) {
        return null;
      }
    }
    int lineLimit = Math.min(buf.writerIndex(), start + maxLine);
    int lf = buf.indexOf(start, lineLimit, (byte) '\n');
    if (lf < 0) {
      return more(buf, lineLimit);
    }
    if (lf - start < 14 || buf.getByte(lf - 1) != '\r') {
      return null;
    }
    byte minor = buf.getByte(start + 7);
    if ((minor != '0' && minor != '1') || buf.getByte(start + 8) != ' ' || buf.getByte(start + 12) != ' ') {
      return null;
    }
    int code = 0;
    for (int i = 9; i < 12; i++) {
      int d = buf.getByte(start + i) - '0';
      if (d < 0 || d > 9) {
        return null;
      }
      code = code * 10 + d;
    }
    if (code < 200 || code > 599 || code == 204 || code == 205 || code == 304) {
      return null;
    }
    if (!HeadBytes.visible(buf, start + 13, lf - 1)) {
      return null;
    }
    int statusEnd = lf + 1 - start;
    int limit = Math.min(buf.writerIndex(), lf + 1 + maxFields);
    int count = 1;
    long dropped = 0;
    long contentLength = -1;
    boolean chunked = false;
    int connection = 0;
    int at = lf + 1;
    while (true) {
      lf = buf.indexOf(at, limit, (byte) '\n');
      if (lf < 0) {
        return more(buf, limit);
      }
      if (lf == at || buf.getByte(lf - 1) != '\r') {
        return null;   // a bare LF
      }
      int end = lf - 1;
      if (end == at) {
        at = lf + 1;   // the empty line: the head is complete
        break;
      }
      if (count > MAX_LINES) {
        return null;
      }
      int colon = HeadBytes.fieldColon(buf, at, end);
      if (colon < 0) {
        return null;
      }
      int nameLength = colon - at;
      int valueStart = HeadBytes.skipOws(buf, colon + 1, end);
      int valueEnd = HeadBytes.trimOws(buf, valueStart, end);
      boolean drop = false;
      switch (nameLength) {
        case 2:
          drop = HeadBytes.is(buf, at, "te");
          break;
        case 7:
          drop = HeadBytes.is(buf, at, "upgrade");
          break;
        case 10:
          if (HeadBytes.is(buf, at, "connection")) {
            drop = true;
            // Only close and keep-alive: any other token names a field to remove, left to the decoder's path.
            connection |= HeadBytes.connectionTokens(buf, valueStart, valueEnd);
            if ((connection & HeadBytes.OTHER) != 0) {
              return null;
            }
          } else if (HeadBytes.is(buf, at, "keep-alive")) {
            drop = true;
          }
          break;
        case 14:
          if (HeadBytes.is(buf, at, "content-length")) {
            if (contentLength >= 0) {
              return null;
            }
            contentLength = digits(buf, valueStart, valueEnd);
            if (contentLength < 0) {
              return null;
            }
          }
          break;
        case 16:
          drop = HeadBytes.is(buf, at, "proxy-connection");
          break;
        case 17:
          if (HeadBytes.is(buf, at, "transfer-encoding")) {
            // chunked alone, in one field; any other coding, list or repeat is left to the decoder's checks.
            // (Not for HEAD: the decoder drops the field from such an answer, and the client gets the same.)
            // (Nor in an HTTP/1.0 response, which the decoder's checks refuse.)
            if (!chunkedOk || headRequest || minor != '1' || chunked || valueEnd - valueStart != 7 || !HeadBytes.is(buf, valueStart, "chunked")) {
              return null;
            }
            chunked = true;
          }
          break;
        default:
          break;
      }
      if (drop) {
        dropped |= 1L << count;
      }
      count++;
      at = lf + 1;
    }
    if (chunked == contentLength >= 0) {
      return null;   // neither framing, or both
    }
    HttpVersion version = minor == '1' ? HttpVersion.HTTP_1_1 : HttpVersion.HTTP_1_0;
    boolean keepAlive = (connection & HeadBytes.CLOSE) == 0
        && (minor == '1' || (connection & HeadBytes.KEEP_ALIVE) != 0);
    int length = at - start;
    ByteBuf head = buf.retainedSlice(start, length);
    outcome = Outcome.HEAD;
    return new RawResponse(head, version, HttpResponseStatus.valueOf(code), headRequest ? 0 : contentLength,
        chunked, keepAlive, statusEnd, dropped);
  }

  /**
   * No complete line where one was due: wait for more while the bytes so far are all there is (the line may still
   * end within its limit), else decline (the decoder refuses it).
   */
  private @Nullable RawResponse more(ByteBuf buf, int searchedTo) {
    outcome = searchedTo == buf.writerIndex() ? Outcome.MORE : Outcome.DECLINED;
    return null;
  }


  /** The decimal number in [from, to), 1 to 18 digits, or -1. */
  private static long digits(ByteBuf buf, int from, int to) {
    if (to <= from || to - from > 18) {
      return -1;
    }
    long n = 0;
    for (int i = from; i < to; i++) {
      int d = buf.getByte(i) - '0';
      if (d < 0 || d > 9) {
        return -1;
      }
      n = n * 10 + d;
    }
    return n;
  }
}
