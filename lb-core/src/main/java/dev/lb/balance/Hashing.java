package dev.lb.balance;

/**
 * A fast 64-bit hash of text for placing keys and ring points: FNV-1a over the characters, then MurmurHash3's
 * finalizer so that nearby inputs (addresses differing in one digit) land far apart. Not cryptographic; stable
 * across runs and JVMs, so a key maps to the same backend on every replica.
 */
final class Hashing {
  private static final long FNV_OFFSET = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;

  private Hashing() {}

  static long hash(CharSequence text) {
    long h = FNV_OFFSET;
    for (int i = 0, n = text.length(); i < n; i++) {
      char c = text.charAt(i);
      h ^= c & 0xff;
      h *= FNV_PRIME;
      h ^= c >>> 8;
      h *= FNV_PRIME;
    }
    return mix(h);
  }

  /** MurmurHash3's 64-bit finalizer. */
  static long mix(long h) {
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h;
  }
}
