package dev.lb.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import com.fasterxml.jackson.dataformat.yaml.snakeyaml.error.MarkedYAMLException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A YAML document read into a Jackson tree, with where each value stood in the document.
 *
 * <p>Every scalar is kept as the text written (a {@link TextNode}); only a YAML null becomes a {@link NullNode}.
 * YAML 1.1, which the parser follows, would turn {@code 0123} into 83 and {@code on} into true, silently changing a
 * token or a client id; {@link TreeReader} types each value by what its field expects instead.
 *
 * <p>The tree is built here from the parser's tokens rather than by {@code readTree} so that a duplicate key is
 * reported together with every other error (at its place in the document) instead of ending the parse.
 */
final class YamlTree {
  /** Suffix of the key under which a map or list's end position is kept. */
  static final String END = "\u0000end";

  // As YAMLMapper does: "key:" with nothing after it is null, while a quoted '' stays an empty string.
  private static final YAMLFactory FACTORY =
      YAMLFactory.builder().enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL).build();

  private final JsonNode root;
  private final Map<String, Integer> positions = new HashMap<>();
  private final List<TreeReader.Problem> duplicates = new ArrayList<>();
  private final @Nullable String source;
  private int nextPosition;

  private YamlTree(String yaml, @Nullable String source) throws ConfigException {
    this.source = source;
    try (JsonParser parser = FACTORY.createParser(yaml)) {
      JsonToken first = parser.nextToken();
      this.root = first == null ? MissingNode.getInstance() : value(parser, first, "", true);
      if (parser.nextToken() != null) {
        throw syntaxError("only one YAML document is allowed", parser.currentTokenLocation());
      }
    } catch (JsonProcessingException e) {
      throw syntaxError(e);
    } catch (IOException e) {
      // Only a StringReader is read, so this is a parse failure the parser did not type.
      throw new ConfigException(prefix() + "cannot parse YAML: " + e.getMessage());
    }
  }

  /**
   * Parses one YAML document.
   *
   * @param source names the document in syntax errors (a file name), or null
   * @throws ConfigException with one line on a syntax error, naming line and column
   */
  static YamlTree parse(String yaml, @Nullable String source) throws ConfigException {
    return new YamlTree(yaml, source);
  }

  /** The document's root: a {@link MissingNode} for an empty document. */
  JsonNode root() {
    return root;
  }

  /** Duplicate keys found, each at its position. */
  List<TreeReader.Problem> duplicates() {
    return duplicates;
  }

  /**
   * The position in document order of the value at {@code path}; for a value that is not in the document, the end of
   * its closest enclosing map or list that is, so that "missing" errors come after what that map holds.
   */
  int position(String path) {
    String p = path;
    while (true) {
      @Nullable Integer at = positions.get(p);
      if (at != null) {
        return at;
      }
      if (p.isEmpty()) {
        return Integer.MAX_VALUE;
      }
      p = TreeReader.parent(p);
      @Nullable Integer end = positions.get(p + END);
      if (end != null) {
        return end;
      }
    }
  }

  private JsonNode value(JsonParser parser, JsonToken token, String path, boolean record)
      throws IOException, ConfigException {
    if (record) {
      positions.put(path, nextPosition++);
    }
    if (parser instanceof YAMLParser yaml && yaml.isCurrentAlias()) {
      // The parser hands an alias over as its anchor's name, which would silently become the value.
      throw syntaxError("aliases (*" + parser.getText() + ") are not supported", parser.currentTokenLocation());
    }
    JsonNode node =
        switch (token) {
          case START_OBJECT -> map(parser, path, record);
          case START_ARRAY -> list(parser, path, record);
          case VALUE_NULL -> NullNode.getInstance();
          default -> TextNode.valueOf(parser.getText());
        };
    if (record && node.isContainerNode()) {
      positions.put(path + END, nextPosition++);
    }
    return node;
  }

  private ObjectNode map(JsonParser parser, String path, boolean record) throws IOException, ConfigException {
    ObjectNode map = JsonNodeFactory.instance.objectNode();
    JsonToken token;
    while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
      String key = parser.currentName();
      JsonToken valueToken = parser.nextToken();
      String child = TreeReader.child(path, key);
      if (map.has(key)) {
        int at = nextPosition++;
        JsonNode again = value(parser, valueToken, child, false);
        if (record) {
          duplicates.add(
              new TreeReader.Problem(at, child, TreeReader.render(again), "each key once; this one is a duplicate"));
        }
      } else {
        map.set(key, value(parser, valueToken, child, record));
      }
    }
    if (token != JsonToken.END_OBJECT) {
      throw syntaxError("unexpected " + token, parser.currentTokenLocation());
    }
    return map;
  }

  private ArrayNode list(JsonParser parser, String path, boolean record) throws IOException, ConfigException {
    ArrayNode list = JsonNodeFactory.instance.arrayNode();
    JsonToken token;
    while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
      if (token == null) {
        throw syntaxError("unexpected end of document", parser.currentTokenLocation());
      }
      list.add(value(parser, token, TreeReader.item(path, list.size()), record));
    }
    return list;
  }

  private ConfigException syntaxError(JsonProcessingException e) {
    if (e instanceof MarkedYAMLException marked && marked.getProblemMark() != null) {
      // SnakeYAML's own message spans several lines with a source excerpt; keep the problem and its place.
      String problem =
          marked.getContext() == null ? marked.getProblem() : marked.getContext() + ": " + marked.getProblem();
      return syntaxError(problem, marked.getProblemMark().getLine() + 1, marked.getProblemMark().getColumn() + 1);
    }
    return syntaxError(e.getOriginalMessage(), e.getLocation());
  }

  private ConfigException syntaxError(String problem, @Nullable JsonLocation location) {
    if (location == null || location.getLineNr() < 0) {
      return new ConfigException(prefix() + "YAML syntax error: " + oneLine(problem));
    }
    return syntaxError(problem, location.getLineNr(), location.getColumnNr());
  }

  private ConfigException syntaxError(String problem, int line, int column) {
    return new ConfigException(
        prefix() + "YAML syntax error at line " + line + ", column " + column + ": " + oneLine(problem));
  }

  private String prefix() {
    return source == null ? "" : source + ": ";
  }

  private static String oneLine(String text) {
    return text.replaceAll("\\s*\\R\\s*", " ").trim();
  }
}
