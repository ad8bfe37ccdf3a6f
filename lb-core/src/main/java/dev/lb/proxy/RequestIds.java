package dev.lb.proxy;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code X-Request-Id}: kept when the client sent a usable one, generated otherwise (32 lower-case hex digits, 128
 * random bits, built without a {@code String}).
 */
public final class RequestIds {
  public static final AsciiString HEADER = AsciiString.cached("x-request-id");

  /** Longest client-supplied id that is kept as is. */
  static final int MAX_LENGTH = 200;

  private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private RequestIds() {}

  /** A new random id. */
  public static AsciiString generate() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    byte[] out = new byte[32];
    fill(out, 0, random.nextLong());
    fill(out, 16, random.nextLong());
    return new AsciiString(out, false);
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
    AsciiString id = generate();
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
}
