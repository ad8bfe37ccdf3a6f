package dev.lb.proxy;

import dev.lb.pool.HeadBytes;
import dev.lb.pool.RawRequest;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import org.jspecify.annotations.Nullable;

/**
 * Reads a client's request head in place and decides whether it can be forwarded as its bytes ({@link RawRequest}).
 * It takes only the plainest bodiless heads, which Netty's decoder, the codec's request-line rule and
 * {@link RequestGuard} would all accept unchanged, and leaves every other one to them, which then decide exactly as
 * before:
 *
 * <ul>
 *   <li>nothing before the request line; {@code GET}, {@code HEAD}, {@code POST}, {@code PUT}, {@code DELETE},
 *       {@code OPTIONS}, {@code PATCH} or {@code TRACE}, one SP, an origin-form target ({@code /} then visible ASCII
 *       but {@code #}), one SP, {@code HTTP/1.1} or {@code HTTP/1.0}, CRLF;
 *   <li>at most {@value #MAX_LINES} fields, each {@code token ":" value CRLF} with no space before the colon, no
 *       continuation line, and a value of visible ASCII, SP and HTAB;
 *   <li>exactly one {@code Host}, valid as {@link RequestSyntax#validHost} has it;
 *   <li>no {@code Content-Length}, {@code Transfer-Encoding}, {@code Expect}, {@code Upgrade},
 *       {@code X-Forwarded-For}, {@code X-Request-Id} (each has rules of its own on the decoded path), and
 *       {@code Connection} with only {@code close} and {@code keep-alive} in it.
 * </ul>
 *
 * <p>Within the decoder's limits a head not yet complete waits for more bytes; past them it is declined (the decoder
 * refuses it). The scan allocates nothing for a head it declines; for one it takes, a copy of the head and the
 * request.
 */
final class RequestScanner {
  /** The scan's outcomes besides a head. */
  enum Outcome { HEAD, MORE, DECLINED }

  /** Most fields a head may have to be forwarded as bytes (one bit each in {@link RawRequest}'s mask). */
  static final int MAX_LINES = 62;

  private static final byte[] HTTP_1 = {'H', 'T', 'T', 'P', '/', '1', '.'};
  private static final HttpMethod[] METHODS = {
    HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST, HttpMethod.PUT, HttpMethod.DELETE, HttpMethod.OPTIONS,
    HttpMethod.PATCH, HttpMethod.TRACE
  };
  private Outcome outcome = Outcome.DECLINED;

  /** What the last {@link #scan} found: a head, more bytes needed, or a head it leaves to the decoder. */
  Outcome outcome() {
    return outcome;
  }

  /**
   * Scans the bytes readable in {@code buf}, which must start where a request may. Consumes nothing.
   *
   * @param maxLine the most bytes the request line may take with its CRLF; a longer one is declined
   * @param maxFields the most bytes the field lines may take, counted with their CRLFs (the decoder counts less, so
   *     whatever is taken here the decoder would have taken); more is declined
   * @return the request, or null when {@link #outcome()} says {@code MORE} or {@code DECLINED}
   */
  @Nullable RawRequest scan(ByteBuf buf, int maxLine, int maxFields) {
    outcome = Outcome.DECLINED;
    int start = buf.readerIndex();
    int writer = buf.writerIndex();
    // The method, from the bytes that arrived.
    int sp = start;
    while (sp < writer && sp - start < 8 && buf.getByte(sp) >= 'A' && buf.getByte(sp) <= 'Z') {
      sp++;
    }
    if (sp == writer) {
      return more(buf, writer);
    }
    if (buf.getByte(sp) != ' ') {
      return null;
    }
    HttpMethod method = method(buf, start, sp - start);
    if (method == null) {
      return null;
    }
    int lineLimit = Math.min(writer, start + maxLine);
    int lf = buf.indexOf(sp, lineLimit, (byte) '\n');
    if (lf < 0) {
      return more(buf, lineLimit);
    }
    // "/" target SP "HTTP/1.x" CR LF
    int uriStart = sp + 1;
    int uriEnd = lf - 10;
    if (uriEnd <= uriStart || buf.getByte(uriStart) != '/' || buf.getByte(uriEnd) != ' '
        || buf.getByte(lf - 1) != '\r') {
      return null;
    }
    for (int i = 0; i < HTTP_1.length; i++) {
      if (buf.getByte(uriEnd + 1 + i) != HTTP_1[i]) {
        return null;
      }
    }
    byte minor = buf.getByte(lf - 2);
    if (minor != '0' && minor != '1') {
      return null;
    }
    for (int i = uriStart + 1; i < uriEnd; i++) {
      byte b = buf.getByte(i);
      if (b <= ' ' || b >= 0x7f || b == '#') {
        return null;
      }
    }
    int lineEnd = lf + 1;
    int limit = Math.min(writer, lineEnd + maxFields);
    int count = 1;
    long dropped = 0;
    int connection = 0;
    int hostStart = -1;
    int hostEnd = -1;
    int at = lineEnd;
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
        case 4:
          if (HeadBytes.is(buf, at, "host")) {
            if (hostStart >= 0 || !validHost(buf, valueStart, valueEnd)) {
              return null;
            }
            hostStart = valueStart;
            hostEnd = valueEnd;
          }
          break;
        case 6:
          if (HeadBytes.is(buf, at, "expect")) {
            return null;
          }
          break;
        case 7:
          if (HeadBytes.is(buf, at, "upgrade")) {
            return null;
          }
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
        case 12:
          if (HeadBytes.is(buf, at, "x-request-id")) {
            return null;
          }
          break;
        case 14:
          if (HeadBytes.is(buf, at, "content-length")) {
            return null;
          }
          break;
        case 15:
          if (HeadBytes.is(buf, at, "x-forwarded-for")) {
            return null;
          }
          break;
        case 16:
          drop = HeadBytes.is(buf, at, "proxy-connection") || HeadBytes.is(buf, at, "x-forwarded-host");
          break;
        case 17:
          if (HeadBytes.is(buf, at, "transfer-encoding")) {
            return null;
          }
          drop = HeadBytes.is(buf, at, "x-forwarded-proto");
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
    if (hostStart < 0) {
      return null;
    }
    int length = at - start;
    byte[] head = new byte[length];
    buf.getBytes(start, head);
    outcome = Outcome.HEAD;
    HttpVersion version = minor == '1' ? HttpVersion.HTTP_1_1 : HttpVersion.HTTP_1_0;
    boolean keepAlive = (connection & HeadBytes.CLOSE) == 0
        && (minor == '1' || (connection & HeadBytes.KEEP_ALIVE) != 0);
    return new RawRequest(head, method, uriStart - start, uriEnd - start, version, lineEnd - start,
        hostStart - start, hostEnd - start, keepAlive, dropped);
  }

  /** The method spelled by the {@code length} bytes at {@code at}, when it is one the scanner takes. */
  private static @Nullable HttpMethod method(ByteBuf buf, int at, int length) {
    for (HttpMethod m : METHODS) {
      AsciiString name = m.asciiName();
      if (name.length() == length) {
        boolean same = true;
        for (int i = 0; i < length && same; i++) {
          same = buf.getByte(at + i) == name.byteAt(i);
        }
        if (same) {
          return m;
        }
      }
    }
    return null;
  }

  /**
   * No complete line where one was due: wait for more while the bytes so far are all there is (the line may still
   * end within its limit), else decline (the decoder refuses it).
   */
  private @Nullable RawRequest more(ByteBuf buf, int searchedTo) {
    outcome = searchedTo == buf.writerIndex() ? Outcome.MORE : Outcome.DECLINED;
    return null;
  }

  private static boolean validHost(ByteBuf buf, int from, int to) {
    for (int i = from; i < to; i++) {
      if (!RequestSyntax.isHostChar(buf.getByte(i))) {
        return false;
      }
    }
    return true;
  }
}
