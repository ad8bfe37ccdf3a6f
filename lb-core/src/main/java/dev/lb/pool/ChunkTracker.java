package dev.lb.pool;

import io.netty.buffer.ByteBuf;
import org.jspecify.annotations.Nullable;

/**
 * Follows a chunked body (RFC 9112 section 7.1) through the bytes that carry it, so that they can be relayed as they
 * arrived instead of being decoded into pieces and encoded again: it finds where the body ends and checks its framing
 * on the way, strictly.
 *
 * <ul>
 *   <li>a chunk-size line is 1 to 15 hex digits, optionally followed by extensions ({@code ;} then visible ASCII, SP
 *       and HTAB), and CRLF, within {@code maxLine} bytes;
 *   <li>chunk data is followed by CRLF exactly;
 *   <li>after the last chunk ({@code 0}), the trailer section is {@code token ":" value CRLF} lines as in a head, at
 *       most {@code maxTrailers} bytes, then CRLF. Trailer fields {@link TrailerFields} forbids are left out, as the
 *       relay strips them from decoded trailers.
 * </ul>
 *
 * <p>Anything else is {@linkplain #failure() a failure}, as a malformed body is on the decoded path (Netty's decoder
 * is more lenient: it takes whitespace around the size, a bare LF, and any bytes before the LF that ends a chunk's
 * data; lb relays none of that as it is). The tracker consumes nothing itself; {@link #advance} says how far the bytes
 * are checked and the caller passes those on. A size line or a trailer section still incomplete stays unread until
 * it is whole.
 */
final class ChunkTracker {
  private enum State { SIZE, DATA, DATA_CR, DATA_LF, DONE }

  private final int maxLine;
  private final int maxTrailers;
  private State state = State.SIZE;
  /** Data bytes left in the current chunk. */
  private long remaining;
  /** Data bytes checked since {@link #takeData()}. */
  private long data;
  private @Nullable String failure;
  /** Where the trailer section of the ended body starts and ends in the buffer, when it has fields to leave out. */
  private int trailersStart = -1;
  private int trailersEnd = -1;

  ChunkTracker(int maxLine, int maxTrailers) {
    this.maxLine = maxLine;
    this.maxTrailers = maxTrailers;
  }

  /** Whether the last chunk and the trailer section have been checked: the body ends there. */
  boolean done() {
    return state == State.DONE;
  }

  /** Why the framing is malformed, or null. */
  @Nullable String failure() {
    return failure;
  }

  /** The data bytes (framing not counted) checked since the last call. */
  long takeData() {
    long d = data;
    data = 0;
    return d;
  }

  /**
   * When the ended body's trailer section holds fields to leave out: where it starts (after the last-chunk line),
   * else -1. {@link #trailersEnd()} is where it ends, before its final CRLF.
   */
  int trailersToFilter() {
    return trailersStart;
  }

  int trailersEnd() {
    return trailersEnd;
  }

  /**
   * Checks the readable bytes of {@code buf} from its reader index on, as far as they go or until the body ends.
   *
   * @return the index up to which the bytes are checked: those between the reader index and it may be passed on
   */
  int advance(ByteBuf buf) {
    int i = buf.readerIndex();
    int end = buf.writerIndex();
    while (i < end && failure == null) {
      switch (state) {
        case DATA: {
          long n = Math.min(remaining, end - i);
          i += (int) n;
          remaining -= n;
          data += n;
          if (remaining == 0) {
            state = State.DATA_CR;
          }
          break;
        }
        case DATA_CR:
          if (buf.getByte(i) != '\r') {
            return fail(i, "no CRLF after chunk data");
          }
          i++;
          state = State.DATA_LF;
          break;
        case DATA_LF:
          if (buf.getByte(i) != '\n') {
            return fail(i, "no CRLF after chunk data");
          }
          i++;
          state = State.SIZE;
          break;
        case SIZE: {
          int next = sizeLine(buf, i, end);
          if (next <= i) {
            return i;   // incomplete (or failed)
          }
          i = next;
          break;
        }
        case DONE:
        default:
          return i;
      }
    }
    return i;
  }

  /** Reads the size line at {@code at}; returns where what follows it starts, or {@code at} when it is incomplete. */
  private int sizeLine(ByteBuf buf, int at, int end) {
    int lf = buf.indexOf(at, Math.min(end, at + maxLine), (byte) '\n');
    if (lf < 0) {
      if (end - at >= maxLine) {
        fail(at, "chunk size line over " + maxLine + " bytes");
      }
      return at;
    }
    if (lf == at || buf.getByte(lf - 1) != '\r') {
      fail(at, "chunk size line without CRLF");
      return at;
    }
    int lineEnd = lf - 1;
    long size = 0;
    int i = at;
    for (; i < lineEnd; i++) {
      int d = Character.digit(buf.getByte(i), 16);
      if (d < 0) {
        break;
      }
      if (i - at == 15) {
        fail(at, "chunk size over 15 hex digits");
        return at;
      }
      size = size << 4 | d;
    }
    if (i == at) {
      fail(at, "chunk size not hex");
      return at;
    }
    if (i < lineEnd) {
      if (buf.getByte(i) != ';' || !HeadBytes.visible(buf, i + 1, lineEnd)) {
        fail(at, "chunk size line with bytes after the size other than an extension");
        return at;
      }
    }
    if (size > 0) {
      remaining = size;
      state = State.DATA;
      return lf + 1;
    }
    // The last chunk: the whole trailer section must be here before it goes on.
    int limit = Math.min(end, lf + 1 + maxTrailers);
    boolean filter = false;
    int line = lf + 1;
    while (true) {
      int next = buf.indexOf(line, limit, (byte) '\n');
      if (next < 0) {
        if (limit < end || limit - (lf + 1) >= maxTrailers) {
          fail(at, "trailer section over " + maxTrailers + " bytes");
        }
        return at;
      }
      if (next == line || buf.getByte(next - 1) != '\r') {
        fail(at, "trailer line without CRLF");
        return at;
      }
      if (next - 1 == line) {
        // The empty line: the body ends after it.
        if (filter) {
          trailersStart = lf + 1;
          trailersEnd = line;
        }
        state = State.DONE;
        return next + 1;
      }
      int colon = HeadBytes.fieldColon(buf, line, next - 1);
      if (colon < 0) {
        fail(at, "malformed trailer line");
        return at;
      }
      filter |= TrailerFields.forbidden(buf, line, colon - line);
      line = next + 1;
    }
  }

  private int fail(int at, String why) {
    failure = why;
    return at;
  }
}
