package dev.lb.route;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A read-only map from lower-case host names to values, looked up by a range of any {@link CharSequence} ignoring
 * ASCII case, without allocating: open addressing, linear probing, at most half full.
 */
final class HostTable<V> {
  private final @Nullable String[] keys;
  private final @Nullable Object[] values;
  private final int mask;
  private final int minLength;
  private final int maxLength;

  /** @param entries keys in lower case (ASCII) */
  HostTable(Map<String, V> entries) {
    int capacity = Integer.highestOneBit(Math.max(2, entries.size() * 2) - 1) << 1;
    keys = new String[capacity];
    values = new Object[capacity];
    mask = capacity - 1;
    int min = Integer.MAX_VALUE;
    int max = 0;
    for (Map.Entry<String, V> e : entries.entrySet()) {
      String key = e.getKey();
      int i = hash(key, 0, key.length()) & mask;
      while (keys[i] != null) {
        i = (i + 1) & mask;
      }
      keys[i] = key;
      values[i] = e.getValue();
      min = Math.min(min, key.length());
      max = Math.max(max, key.length());
    }
    minLength = min;
    maxLength = max;
  }

  /** The value of the key equal to {@code s[from, to)} ignoring ASCII case, or null. */
  @SuppressWarnings("unchecked")
  @Nullable V get(CharSequence s, int from, int to) {
    int n = to - from;
    if (n < minLength || n > maxLength) {
      return null;
    }
    for (int i = hash(s, from, to) & mask; ; i = (i + 1) & mask) {
      String key = keys[i];
      if (key == null) {
        return null;
      }
      if (equalsIgnoreCase(key, s, from, to)) {
        return (V) values[i];
      }
    }
  }

  static int hash(CharSequence s, int from, int to) {
    int h = 0;
    for (int i = from; i < to; i++) {
      h = 31 * h + lower(s.charAt(i));
    }
    return h ^ (h >>> 16);
  }

  private static boolean equalsIgnoreCase(String key, CharSequence s, int from, int to) {
    if (key.length() != to - from) {
      return false;
    }
    for (int i = 0; i < key.length(); i++) {
      if (key.charAt(i) != lower(s.charAt(from + i))) {
        return false;
      }
    }
    return true;
  }

  static char lower(char c) {
    return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
  }
}
