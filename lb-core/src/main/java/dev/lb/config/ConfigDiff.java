package dev.lb.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What differs between two configurations, key by key, as lines {@code path: old -> new} (secrets masked), in the
 * order of the printed configuration: for logging a reload. Lists are compared whole.
 */
public final class ConfigDiff {
  private ConfigDiff() {}

  /** The changed keys, one line each; empty when nothing changed. */
  public static List<String> changes(LbConfig before, LbConfig after) {
    Map<String, String> a = flatten(before);
    Map<String, String> b = flatten(after);
    Set<String> keys = new LinkedHashSet<>(a.keySet());
    keys.addAll(b.keySet());
    List<String> out = new ArrayList<>();
    for (String key : keys) {
      String x = a.getOrDefault(key, "(none)");
      String y = b.getOrDefault(key, "(none)");
      if (!x.equals(y)) {
        out.add(key + ": " + x + " -> " + y);
      }
    }
    return out;
  }

  /** Whether any key under one of these prefixes changed (e.g. {@code listen.port}, {@code admin}). */
  public static List<String> changedUnder(List<String> changes, List<String> prefixes) {
    List<String> out = new ArrayList<>();
    for (String line : changes) {
      for (String prefix : prefixes) {
        if (line.startsWith(prefix + ":") || line.startsWith(prefix + ".")) {
          out.add(line);
          break;
        }
      }
    }
    return out;
  }

  private static Map<String, String> flatten(LbConfig config) {
    // With each TLS file's digest: a reload after a certificate file was replaced under its name is a change.
    JsonNode tree = ConfigPrinter.toTree(config, true, true);
    Map<String, String> out = new LinkedHashMap<>();
    flatten("", tree, out);
    return out;
  }

  private static void flatten(String path, JsonNode node, Map<String, String> out) {
    if (node.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        flatten(path.isEmpty() ? e.getKey() : path + "." + e.getKey(), e.getValue(), out);
      }
    } else if (node.isArray()) {
      out.put(path, compact(node));
    } else {
      out.put(path, node.asText());
    }
  }

  private static String compact(JsonNode node) {
    List<String> items = new ArrayList<>();
    for (JsonNode item : node) {
      items.add(item.isObject() ? compactMap(item) : item.asText());
    }
    return "[" + String.join(", ", items) + "]";
  }

  /** A map in flow style, nested maps (a backend's {@code tls}) too. */
  private static String compactMap(JsonNode map) {
    List<String> fields = new ArrayList<>();
    map.fields().forEachRemaining(e -> fields.add(e.getKey() + ": "
        + (e.getValue().isObject() ? compactMap(e.getValue()) : e.getValue().asText())));
    return "{" + String.join(", ", fields) + "}";
  }
}
