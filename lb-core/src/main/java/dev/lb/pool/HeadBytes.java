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
}
