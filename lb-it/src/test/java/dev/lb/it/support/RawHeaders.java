package dev.lb.it.support;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Header fields exactly as received, in order, with case-insensitive lookup. Nothing is validated or merged, so tests
 * can see duplicates and odd values. Immutable.
 */
public final class RawHeaders {
  private final List<Map.Entry<String, String>> entries;

  RawHeaders(List<Map.Entry<String, String>> entries) {
    this.entries = List.copyOf(entries);
  }

  static RawHeaders empty() {
    return new RawHeaders(List.of());
  }

  /** The first value of {@code name}, or null. */
  public @Nullable String get(String name) {
    for (Map.Entry<String, String> e : entries) {
      if (e.getKey().equalsIgnoreCase(name)) {
        return e.getValue();
      }
    }
    return null;
  }

  /** Every value of {@code name}, in order; empty when absent. */
  public List<String> getAll(String name) {
    List<String> values = new ArrayList<>();
    for (Map.Entry<String, String> e : entries) {
      if (e.getKey().equalsIgnoreCase(name)) {
        values.add(e.getValue());
      }
    }
    return values;
  }

  public boolean contains(String name) {
    return get(name) != null;
  }

  /**
   * Whether {@code name} lists {@code token} among its comma-separated values, ignoring case; for Connection,
   * Transfer-Encoding and the like.
   */
  public boolean hasToken(String name, String token) {
    for (String value : getAll(name)) {
      for (String part : value.split(",")) {
        if (part.trim().equalsIgnoreCase(token)) {
          return true;
        }
      }
    }
    return false;
  }

  /** The names present, lower-cased, in order of first appearance. */
  public Set<String> names() {
    Set<String> names = new LinkedHashSet<>();
    for (Map.Entry<String, String> e : entries) {
      names.add(e.getKey().toLowerCase(Locale.ROOT));
    }
    return Collections.unmodifiableSet(names);
  }

  /** Every field as received: name with its original case, and value. */
  public List<Map.Entry<String, String>> entries() {
    return entries;
  }

  public int size() {
    return entries.size();
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, String> e : entries) {
      sb.append(e.getKey()).append(": ").append(e.getValue()).append('\n');
    }
    return sb.toString();
  }
}
