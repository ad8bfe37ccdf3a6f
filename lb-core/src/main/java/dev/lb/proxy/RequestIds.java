package dev.lb.proxy;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code X-Request-Id}: kept when the client sent a usable one, generated otherwise (32 lower-case hex digits, 128
 * random bits, kept as two numbers until written).
 */
public final class RequestIds {
  public static final AsciiString HEADER = AsciiString.cached("x-request-id");

  /** Longest client-supplied id that is kept as is. */
  static final int MAX_LENGTH = 200;

  private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private RequestIds() {}

  /** A new random id: one object, which renders its digits when they are written. */
  public static CharSequence generate() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    return new Generated(random.nextLong(), random.nextLong());
  }

  private static void fill(byte[] out, int offset, long bits) {
    for (int i = 15; i >= 0; i--) {
      out[offset + i] = HEX[(int) (bits & 0xF)];
      bits >>>= 4;
    }
  }

  /**
   * The request's id: the single {@code X-Request-Id} the client sent when it is 1 to 200 visible characters,
   * otherwise a new one, which then replaces whatever the client sent.
   */
  public static CharSequence ensure(HttpHeaders headers) {
    CharSequence given = headers.get(HEADER);
    if (given != null && usable(given) && headers.getAll(HEADER).size() == 1) {
      return given;
    }
    CharSequence id = generate();
    headers.set(HEADER, id);
    return id;
  }

  private static boolean usable(CharSequence id) {
    int n = id.length();
    if (n == 0 || n > MAX_LENGTH) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      char c = id.charAt(i);
      if (c <= ' ' || c >= 0x7f) {
        return false;
      }
    }
    return true;
  }

  /** 128 bits as 32 lower-case hex digits, kept as two longs. */
  private static final class Generated implements CharSequence {
    private final long high;
    private final long low;

    Generated(long high, long low) {
      this.high = high;
      this.low = low;
    }

    @Override
    public int length() {
      return 32;
    }

    @Override
    public char charAt(int index) {
      if (index < 0 || index >= 32) {
        throw new IndexOutOfBoundsException(index);
      }
      long bits = index < 16 ? high : low;
      return (char) HEX[(int) (bits >>> ((15 - (index & 15)) << 2)) & 0xF];
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return toString().substring(start, end);
    }

    @Override
    public String toString() {
      byte[] out = new byte[32];
      fill(out, 0, high);
      fill(out, 16, low);
      return new String(out, java.nio.charset.StandardCharsets.US_ASCII);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Generated && ((Generated) o).high == high && ((Generated) o).low == low;
    }

    @Override
    public int hashCode() {
      return Long.hashCode(high) * 31 + Long.hashCode(low);
    }
  }
}
