package dev.lb.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * One map of the configuration (a section such as {@code listen}, or a list item such as {@code backends[0]}), read
 * through a {@link TreeReader}.
 *
 * <p>Creating it reports keys it does not allow. A YAML null or an absent section reads as an empty map, so every
 * field takes its default; any other non-map is reported once, and its fields then read as absent without further
 * errors.
 */
final class Section {
  private final TreeReader reader;
  private final String path;
  private final @Nullable ObjectNode map;
  private final boolean wrongType;

  Section(TreeReader reader, String path, @Nullable JsonNode node, List<String> keys) {
    this.reader = reader;
    this.path = path;
    if (node == null || node.isMissingNode() || node.isNull()) {
      this.map = null;
      this.wrongType = false;
    } else if (node instanceof ObjectNode object) {
      this.map = object;
      this.wrongType = false;
      for (Map.Entry<String, JsonNode> field : object.properties()) {
        if (!keys.contains(field.getKey())) {
          reader.error(
              path(field.getKey()), TreeReader.render(field.getValue()), "one of " + String.join(", ", keys));
        }
      }
    } else {
      reader.error(path, TreeReader.render(node), "a map with keys " + String.join(", ", keys));
      this.map = null;
      this.wrongType = true;
    }
  }

  TreeReader reader() {
    return reader;
  }

  String path() {
    return path;
  }

  String path(String key) {
    return TreeReader.child(path, key);
  }

  /** The value under {@code key}, or null when absent. */
  @Nullable JsonNode get(String key) {
    return map == null ? null : map.get(key);
  }

  /** Whether the section's own value was not a map (already reported). */
  boolean wrongType() {
    return wrongType;
  }

  /** The nested section under {@code key}. */
  Section section(String key, List<String> keys) {
    return new Section(reader, path(key), get(key), keys);
  }

  /**
   * The items of the list under {@code key}: empty when absent or null; empty after an error when not a list.
   *
   * @param expected what to say when the value is not a list
   */
  List<JsonNode> list(String key, String expected) {
    @Nullable JsonNode node = get(key);
    if (node == null || node.isNull()) {
      return List.of();
    }
    if (!node.isArray()) {
      reader.error(path(key), TreeReader.render(node), expected);
      return List.of();
    }
    List<JsonNode> items = new ArrayList<>(node.size());
    node.elements().forEachRemaining(items::add);
    return items;
  }

  /** The value under {@code key} checked by {@code rule}; {@code fallback} when absent or wrong. */
  <T> T value(String key, T fallback, String expected, TreeReader.Rule<T> rule) {
    return value(key, fallback, expected, rule, Function.identity());
  }

  /** As {@link #value(String, Object, String, TreeReader.Rule)}, showing a bad value through {@code shown}. */
  <T> T value(String key, T fallback, String expected, TreeReader.Rule<T> rule, Function<String, String> shown) {
    @Nullable JsonNode node = get(key);
    if (node == null) {
      return fallback;
    }
    @Nullable T value = reader.scalar(node, path(key), expected, rule, shown);
    return value == null ? fallback : value;
  }

  /** The value under {@code key} checked by {@code rule}; null after reporting it missing or wrong. */
  <T> @Nullable T required(String key, String expected, TreeReader.Rule<T> rule) {
    @Nullable JsonNode node = get(key);
    if (node == null) {
      if (!wrongType) {
        reader.error(path(key), TreeReader.MISSING, expected);
      }
      return null;
    }
    return reader.scalar(node, path(key), expected, rule);
  }

  String string(String key, String fallback) {
    return value(key, fallback, TreeReader.STRING, text -> text);
  }

  int integer(String key, int fallback, int min, int max) {
    return Math.toIntExact(integer(key, (long) fallback, min, max));
  }

  long integer(String key, long fallback, long min, long max) {
    return value(key, fallback, TreeReader.integerRange(min, max), TreeReader.integer(min, max));
  }

  boolean bool(String key, boolean fallback) {
    return value(key, fallback, TreeReader.BOOLEAN, TreeReader::bool);
  }

  /** A duration greater than zero. */
  Duration positiveDuration(String key, Duration fallback) {
    return value(key, fallback, TreeReader.DURATION, TreeReader.duration(true));
  }

  /** A duration of zero or more. */
  Duration duration(String key, Duration fallback) {
    return value(key, fallback, TreeReader.DURATION, TreeReader.duration(false));
  }
}
