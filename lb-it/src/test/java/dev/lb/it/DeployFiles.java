package dev.lb.it;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The deployment files under {@code config/} as trees, for the tests that check them: every failure names the file
 * (relative to the repository root) and the field, such as {@code config/k8s/deployment.yaml:
 * spec.template.spec.containers[name=lb].ports is missing}.
 */
final class DeployFiles {
  private static final ObjectMapper YAML = YAMLMapper.builder()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .build();
  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .build();

  private DeployFiles() {}

  /** The repository root: surefire and failsafe run in the module directory, {@code lb-it}. */
  static Path root() {
    Path root = Path.of("").toAbsolutePath().getParent();
    if (root == null || !Files.isDirectory(root.resolve("config"))) {
      throw new AssertionError("cannot find config/ from " + Path.of("").toAbsolutePath()
          + " (the tests run in the lb-it module directory)");
    }
    return root;
  }

  /** A file under the repository root, which must exist. */
  static Path file(String relative) {
    Path file = root().resolve(relative);
    if (!Files.isRegularFile(file)) {
      throw new AssertionError(relative + ": file not found");
    }
    return file;
  }

  static String read(String relative) {
    try {
      return Files.readString(file(relative), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(relative, e);
    }
  }

  /** Every YAML document of a file (a Kubernetes file may hold several, separated by {@code ---}). */
  static List<Node> yamlDocuments(String relative) {
    String text = read(relative);
    List<Node> docs = new ArrayList<>();
    try (var values = YAML.readerFor(JsonNode.class).<JsonNode>readValues(text)) {
      int index = 0;
      while (values.hasNextValue()) {
        JsonNode doc = values.nextValue();
        if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
          docs.add(new Node(index == 0 ? relative : relative + " (document " + (index + 1) + ")", "", doc));
        }
        index++;
      }
    } catch (IOException e) {
      throw new AssertionError(relative + ": not valid YAML: " + e.getMessage(), e);
    }
    return docs;
  }

  /** The single YAML document of a file. */
  static Node yaml(String relative) {
    List<Node> docs = yamlDocuments(relative);
    if (docs.size() != 1) {
      throw new AssertionError(relative + ": expected one YAML document, found " + docs.size());
    }
    return docs.get(0);
  }

  /** A YAML document given as text (the lb.yaml held by the ConfigMap), named {@code where}. */
  static Node yamlText(String where, String text) {
    try {
      return new Node(where, "", YAML.readTree(text));
    } catch (IOException e) {
      throw new AssertionError(where + ": not valid YAML: " + e.getMessage(), e);
    }
  }

  static Node json(String relative) {
    try {
      return new Node(relative, "", JSON.readTree(read(relative)));
    } catch (IOException e) {
      throw new AssertionError(relative + ": not valid JSON: " + e.getMessage(), e);
    }
  }

  /**
   * A Kubernetes quantity ({@code 1}, {@code 500m}, {@code 1Gi}, {@code 512M}, ...) as a number of units, so that
   * {@code 1} and {@code 1000m}, or {@code 1Gi} and {@code 1024Mi}, compare equal.
   */
  static BigDecimal quantity(Node node) {
    String text = node.text().trim();
    Map<String, BigDecimal> suffixes = Map.ofEntries(
        Map.entry("Ki", BigDecimal.valueOf(1L << 10)), Map.entry("Mi", BigDecimal.valueOf(1L << 20)),
        Map.entry("Gi", BigDecimal.valueOf(1L << 30)), Map.entry("Ti", BigDecimal.valueOf(1L << 40)),
        Map.entry("Pi", BigDecimal.valueOf(1L << 50)), Map.entry("Ei", BigDecimal.valueOf(1L << 60)),
        Map.entry("m", new BigDecimal("0.001")), Map.entry("k", BigDecimal.valueOf(1_000L)),
        Map.entry("M", BigDecimal.valueOf(1_000_000L)), Map.entry("G", BigDecimal.valueOf(1_000_000_000L)),
        Map.entry("T", BigDecimal.valueOf(1_000_000_000_000L)), Map.entry("P", new BigDecimal("1e15")),
        Map.entry("E", new BigDecimal("1e18")));
    for (int length = 2; length >= 1; length--) {
      if (text.length() > length) {
        BigDecimal factor = suffixes.get(text.substring(text.length() - length));
        if (factor != null) {
          return number(node, text.substring(0, text.length() - length)).multiply(factor);
        }
      }
    }
    return number(node, text);
  }

  private static BigDecimal number(Node node, String text) {
    try {
      return new BigDecimal(text);
    } catch (NumberFormatException e) {
      throw node.fail("not a Kubernetes quantity: " + node.text());
    }
  }

  /** A place in a file's tree: the file, the path to it, and the value there. */
  record Node(String file, String path, JsonNode json) {

    /** The value at a dotted path below this one ({@code spec.ports[0].name}); fails if it is missing. */
    Node get(String dotted) {
      return find(dotted).orElseThrow(() -> new AssertionError(where(join(path, dotted)) + " is missing"));
    }

    /** The value at a dotted path below this one, if present (and not null). */
    Optional<Node> find(String dotted) {
      Node at = this;
      for (String segment : dotted.split("\\.")) {
        String key = segment;
        int index = -1;
        int bracket = segment.indexOf('[');
        if (bracket >= 0) {
          key = segment.substring(0, bracket);
          index = Integer.parseInt(segment.substring(bracket + 1, segment.length() - 1));
        }
        JsonNode next = key.isEmpty() ? at.json : at.json.get(key);
        String nextPath = key.isEmpty() ? at.path : join(at.path, key);
        if (next == null || next.isNull()) {
          return Optional.empty();
        }
        if (index >= 0) {
          if (!next.isArray() || next.size() <= index) {
            return Optional.empty();
          }
          next = next.get(index);
          nextPath = nextPath + "[" + index + "]";
        }
        at = new Node(file, nextPath, next);
      }
      return Optional.of(at);
    }

    /** The value under one key, taken literally (a key such as {@code lb.yaml} holds a dot); fails if missing. */
    Node child(String key) {
      JsonNode value = json.get(key);
      String at = path.isEmpty() ? key : path + "." + key;
      if (value == null || value.isNull()) {
        throw new AssertionError(where(at) + " is missing");
      }
      return new Node(file, at, value);
    }

    boolean has(String dotted) {
      return find(dotted).isPresent();
    }

    /** The items of a list. */
    List<Node> items() {
      if (!json.isArray()) {
        throw fail("expected a list, found " + json.getNodeType());
      }
      List<Node> items = new ArrayList<>();
      for (int i = 0; i < json.size(); i++) {
        items.add(new Node(file, path + "[" + i + "]", json.get(i)));
      }
      return items;
    }

    /** The list item whose {@code key} is {@code value}; fails if there is none. */
    Node item(String key, String value) {
      return items().stream()
          .filter(n -> n.json.path(key).asText().equals(value))
          .findFirst()
          .map(n -> new Node(file, path + "[" + key + "=" + value + "]", n.json))
          .orElseThrow(() -> fail("no item with " + key + ": " + value));
    }

    /** The keys of a map, in document order. */
    List<String> keys() {
      if (!json.isObject()) {
        throw fail("expected a map, found " + json.getNodeType());
      }
      List<String> keys = new ArrayList<>();
      for (Iterator<String> it = json.fieldNames(); it.hasNext(); ) {
        keys.add(it.next());
      }
      return keys;
    }

    String text() {
      if (!json.isValueNode()) {
        throw fail("expected a single value, found " + json.getNodeType());
      }
      return json.asText();
    }

    int integer() {
      if (!json.isIntegralNumber()) {
        throw fail("expected an integer, found " + json);
      }
      return json.asInt();
    }

    boolean bool() {
      if (!json.isBoolean()) {
        throw fail("expected true or false, found " + json);
      }
      return json.asBoolean();
    }

    /** "file: path" for messages. */
    String where() {
      return where(path);
    }

    AssertionError fail(String message) {
      return new AssertionError(where() + ": " + message);
    }

    private String where(String at) {
      return file + (at.isEmpty() ? "" : ": " + at);
    }

    private static String join(String a, String b) {
      return a.isEmpty() ? b : a + "." + b;
    }
  }
}
