package dev.lb.it.support;

import java.security.MessageDigest;

/**
 * A deterministic byte stream: the same seed always gives the same bytes, however they are read in pieces. Both the
 * backend's {@code /bytes} route and the test-side uploaders and checkers use it, so either side can recompute what
 * the other sent.
 *
 * <p>The generator is xorshift64* seeded through splitmix64; each 64-bit output gives eight bytes, most significant
 * first. Not thread-safe.
 */
public final class PseudoRandomBytes {
  private long state;
  private long word;
  private int wordBytesLeft;

  public PseudoRandomBytes(long seed) {
    long z = seed + 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z ^= z >>> 31;
    this.state = z == 0 ? 0x2545F4914F6CDD1DL : z;
  }

  /** SHA-256, lower-case hex, of the first {@code n} bytes of the stream for {@code seed}. */
  public static String sha256(long n, long seed) {
    MessageDigest digest = Digests.sha256();
    PseudoRandomBytes bytes = new PseudoRandomBytes(seed);
    byte[] block = new byte[64 * 1024];
    for (long left = n; left > 0; ) {
      int len = (int) Math.min(block.length, left);
      bytes.nextBytes(block, 0, len);
      digest.update(block, 0, len);
      left -= len;
    }
    return Digests.hex(digest);
  }

  /** Fills {@code dst[off, off + len)} with the next bytes of the stream. */
  public void nextBytes(byte[] dst, int off, int len) {
    int i = off;
    int end = off + len;
    while (i < end && wordBytesLeft > 0) {
      dst[i++] = nextByteOfWord();
    }
    while (end - i >= 8) {
      long w = nextLong();
      for (int shift = 56; shift >= 0; shift -= 8) {
        dst[i++] = (byte) (w >>> shift);
      }
    }
    while (i < end) {
      dst[i++] = nextByte();
    }
  }

  private byte nextByte() {
    if (wordBytesLeft == 0) {
      word = nextLong();
      wordBytesLeft = 8;
    }
    return nextByteOfWord();
  }

  private byte nextByteOfWord() {
    wordBytesLeft--;
    return (byte) (word >>> (wordBytesLeft * 8));
  }

  private long nextLong() {
    long x = state;
    x ^= x >>> 12;
    x ^= x << 25;
    x ^= x >>> 27;
    state = x;
    return x * 0x2545F4914F6CDD1DL;
  }
}
