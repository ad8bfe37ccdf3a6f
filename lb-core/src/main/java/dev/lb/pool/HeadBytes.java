package dev.lb.pool;

import io.netty.buffer.ByteBuf;
import io.netty.util.AsciiString;

/**
 * The byte-level rules the scanners of heads and chunked bodies share (RFC 9110 5.5 and 5.6.2), on the bytes in
 * place: token characters, field values, optional whitespace, case-insensitive names. Nothing here allocates.
 */
public final class HeadBytes {
  /** RFC 9110 5.6.2 tchar, by byte. */
  private static final boolean[] TCHAR = new boolean[256];

  static {
    for (int c = '0'; c <= '9'; c++) {
      TCHAR[c] = true;
    }
    for (int c = 'a'; c <= 'z'; c++) {
      TCHAR[c] = true;
      TCHAR[c - 32] = true;
    }
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
      TCHAR[c] = true;
    }
  }

  private HeadBytes() {}

  /** Where the run of token characters that starts at {@code from} ends, at {@code to} at the latest. */
  public static int tokenEnd(ByteBuf buf, int from, int to) {
    while (from < to && TCHAR[buf.getByte(from) & 0xff]) {
      from++;
    }
    return from;
  }

  /** Whether [from, to) holds only visible ASCII, SP and HTAB. */
  public static boolean visible(ByteBuf buf, int from, int to) {
    for (int i = from; i < to; i++) {
      byte b = buf.getByte(i);
      if ((b < 0x20 && b != '\t') || b == 0x7f || b < 0) {
        return false;
      }
    }
    return true;
  }

  /** The first index in [from, to) that is not SP or HTAB, or {@code to}. */
  public static int skipOws(ByteBuf buf, int from, int to) {
    while (from < to && (buf.getByte(from) == ' ' || buf.getByte(from) == '\t')) {
      from++;
    }
    return from;
  }

  /** The end of [from, to) without the SP and HTAB at its end. */
  public static int trimOws(ByteBuf buf, int from, int to) {
    while (to > from && (buf.getByte(to - 1) == ' ' || buf.getByte(to - 1) == '\t')) {
      to--;
    }
    return to;
  }

  /** Whether the bytes at {@code at} spell {@code name} in any case (the caller checked the length). */
  public static boolean is(ByteBuf buf, int at, CharSequence name) {
    for (int i = 0; i < name.length(); i++) {
      if (AsciiString.toLowerCase((char) (buf.getByte(at + i) & 0xff)) != AsciiString.toLowerCase(name.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  /** {@link #connectionTokens}: {@code close} was listed. */
  public static final int CLOSE = 1;
  /** {@link #connectionTokens}: {@code keep-alive} was listed. */
  public static final int KEEP_ALIVE = 2;
  /** {@link #connectionTokens}: another token was listed (a field name to remove with the hop). */
  public static final int OTHER = 4;

  /**
   * Where the colon of a strict field line [at, end) is: one or more token characters, the colon, then a value of
   * visible ASCII, SP and HTAB; -1 for any other line (a space before the colon, no name, a control byte...).
   */
  public static int fieldColon(ByteBuf buf, int at, int end) {
    int colon = tokenEnd(buf, at, end);
    if (colon == at || colon == end || buf.getByte(colon) != ':' || !visible(buf, colon + 1, end)) {
      return -1;
    }
    return colon;
  }

  /** What the comma-separated tokens of a {@code Connection} value in [from, to) list: {@link #CLOSE} and the others. */
  public static int connectionTokens(ByteBuf buf, int from, int to) {
    int found = 0;
    for (int t = from; t < to; ) {
      int comma = buf.indexOf(t, to, (byte) ',');
      int tokenEnd = comma < 0 ? to : comma;
      int ts = skipOws(buf, t, tokenEnd);
      int te = trimOws(buf, ts, tokenEnd);
      if (te - ts == 5 && is(buf, ts, "close")) {
        found |= CLOSE;
      } else if (te - ts == 10 && is(buf, ts, "keep-alive")) {
        found |= KEEP_ALIVE;
      } else if (te > ts) {
        found |= OTHER;
      }
      t = tokenEnd + 1;
    }
    return found;
  }
}
