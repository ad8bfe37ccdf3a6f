package dev.lb.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Reads typed values out of a {@link YamlTree} and collects every problem instead of stopping at the first.
 *
 * <p>Each read that fails records a line {@code path: value (expected: ...)} and gives back the field's default (or
 * null), so that reading goes on and the caller can look at the whole file. {@link #throwIfErrors()} then reports
 * the lines sorted by where their values stand in the document. Scalars go through {@link EnvSubstitution} when they
 * are read, so a reference in a key that is never read (an unknown key) is not reported twice.
 */
final class TreeReader {
  static final String MISSING = "(missing)";
  static final String NULL = "(null)";
  static final String BOOLEAN = "true or false";
  static final String DURATION = "a duration such as 250ms, 2s, 1m";
  static final String POSITIVE_DURATION = "a duration greater than 0, such as 250ms, 2s, 1m";
  static final String POSITIVE_NUMBER = "a number greater than 0";
  static final String STRING = "a string";

  private static final int MAX_SHOWN = 100;
  private static final Pattern INTEGER = Pattern.compile("[-+]?[0-9]{1,40}");
  // YAML 1.2 core schema floats, without .inf and .nan: a rate must be a finite number.
  private static final Pattern NUMBER =
      Pattern.compile("[-+]?(?:\\.[0-9]+|[0-9]+(?:\\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?");

  /** One bad value: where it stands in the document, its path, the value as shown, and what was expected. */
  record Problem(int position, String path, String value, String expected) {
    String line() {
      return (path.isEmpty() ? "(root)" : path) + ": " + value + " (expected: " + expected + ")";
    }
  }

  /**
   * Checks and converts the text of a scalar.
   *
   * @param <T> what the text becomes
   */
  @FunctionalInterface
  interface Rule<T> {
    /** @throws Rejected when the text breaks the rule */
    T apply(String text);
  }

  /** Thrown by a {@link Rule}: the message is the "expected" part of the error line. */
  static final class Rejected extends RuntimeException {
    Rejected(String expected) {
      super(expected, null, false, false);
    }
  }

  private final YamlTree tree;
  private final Map<String, String> env;
  private final List<Problem> problems = new ArrayList<>();

  TreeReader(YamlTree tree, Map<String, String> env) {
    this.tree = tree;
    this.env = env;
    problems.addAll(tree.duplicates());
  }

  /** The document's root map, allowing the given keys. */
  Section root(List<String> keys) {
    return new Section(this, "", tree.root(), keys);
  }

  /** Records a problem with the value at {@code path}. */
  void error(String path, String shownValue, String expected) {
    problems.add(new Problem(tree.position(path), path, shownValue, expected));
  }

  /** Whether a problem was recorded for {@code path} or for a map or list that contains it. */
  boolean hasErrorOn(String path) {
    for (Problem p : problems) {
      if (path.equals(p.path())
          || p.path().isEmpty()
          || path.startsWith(p.path() + ".")
          || path.startsWith(p.path() + "[")) {
        return true;
      }
    }
    return false;
  }

  /** How many problems were recorded so far: a reading step compares it before and after. */
  int errorCount() {
    return problems.size();
  }

  /** @throws ConfigException listing every recorded problem in document order */
  void throwIfErrors() throws ConfigException {
    if (!problems.isEmpty()) {
      // A stable sort keeps several problems of one value (two unset variables, say) in the order found.
      List<Problem> sorted = new ArrayList<>(problems);
      sorted.sort(Comparator.comparingInt(Problem::position));
      throw new ConfigException(sorted.stream().map(Problem::line).toList());
    }
  }

  /**
   * The scalar at {@code path} checked by {@code rule}, or null after recording why not.
   *
   * @param expected what to say when the node is not a scalar at all (a null, a map, a list)
   * @param shown how to show the text in an error (to hide secrets)
   */
  <T> @Nullable T scalar(
      JsonNode node, String path, String expected, Rule<T> rule, Function<String, String> shown) {
    @Nullable String text = text(node, path, expected);
    if (text == null) {
      return null;
    }
    try {
      return rule.apply(text);
    } catch (Rejected e) {
      error(path, render(shown.apply(text)), e.getMessage());
      return null;
    }
  }

  <T> @Nullable T scalar(JsonNode node, String path, String expected, Rule<T> rule) {
    return scalar(node, path, expected, rule, Function.identity());
  }

  /** The scalar's text with environment references replaced, or null after recording why not. */
  private @Nullable String text(JsonNode node, String path, String expected) {
    if (node.isNull() || node.isContainerNode()) {
      error(path, render(node), expected);
      return null;
    }
    EnvSubstitution.Result result = EnvSubstitution.apply(node.asText(), env);
    for (EnvSubstitution.Problem p : result.problems()) {
      error(path, render(p.reference()), p.expected());
    }
    return result.value();
  }

  // ---- rules ----

  static Rejected reject(String expected) {
    return new Rejected(expected);
  }

  /** "an integer from 0 to 65535", or "an integer of 0 or more" when there is no real upper bound. */
  static String integerRange(long min, long max) {
    return max == Long.MAX_VALUE ? "an integer of " + min + " or more" : "an integer from " + min + " to " + max;
  }

  /** A decimal integer within [min, max]; no fractions, no exponents. */
  static Rule<Long> integer(long min, long max) {
    String expected = integerRange(min, max);
    return text -> {
      if (!INTEGER.matcher(text).matches()) {
        throw reject(expected);
      }
      BigInteger value = new BigInteger(text);
      if (value.compareTo(BigInteger.valueOf(min)) < 0 || value.compareTo(BigInteger.valueOf(max)) > 0) {
        throw reject(expected);
      }
      return value.longValue();
    };
  }

  /** {@code true} or {@code false}, in any case. */
  static boolean bool(String text) {
    if (text.equalsIgnoreCase("true")) {
      return true;
    }
    if (text.equalsIgnoreCase("false")) {
      return false;
    }
    throw reject(BOOLEAN);
  }

  /** A finite number greater than 0; fractions allowed. */
  static double positiveNumber(String text) {
    if (!NUMBER.matcher(text).matches()) {
      throw reject(POSITIVE_NUMBER);
    }
    double value = Double.parseDouble(text);
    if (!(value > 0) || Double.isInfinite(value)) {
      throw reject(POSITIVE_NUMBER);
    }
    return value;
  }

  /** A duration ({@link Durations}); {@code positive} rules out zero. */
  static Rule<Duration> duration(boolean positive) {
    return text -> {
      Duration value;
      try {
        value = Durations.parse(text);
      } catch (IllegalArgumentException e) {
        throw reject(DURATION);
      }
      if (positive && value.isZero()) {
        throw reject(POSITIVE_DURATION);
      }
      return value;
    };
  }

  // ---- paths and rendering ----

  static String child(String path, String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  static String item(String path, int index) {
    return path + "[" + index + "]";
  }

  /** The path of the map or list holding {@code path}; "" for a top-level key. */
  static String parent(String path) {
    int cut = path.endsWith("]") ? path.lastIndexOf('[') : path.lastIndexOf('.');
    return cut < 0 ? "" : path.substring(0, cut);
  }

  /**
   * A value as shown in an error: a scalar as written (quoted when empty or when blanks or control characters would
   * hide), {@code (null)} for a YAML null, {@code (missing)} for nothing at all, maps and lists in flow style;
   * shortened past 100 characters.
   */
  static String render(JsonNode node) {
    StringBuilder out = new StringBuilder();
    render(node, out);
    return shorten(out.toString());
  }

  static String render(String text) {
    return shorten(scalar(text));
  }

  private static void render(JsonNode node, StringBuilder out) {
    if (node.isMissingNode()) {
      out.append(MISSING);
    } else if (node.isNull()) {
      out.append(NULL);
    } else if (node.isObject()) {
      out.append('{');
      Iterator<Map.Entry<String, JsonNode>> fields = node.properties().iterator();
      while (fields.hasNext() && out.length() <= MAX_SHOWN) {
        Map.Entry<String, JsonNode> field = fields.next();
        out.append(scalar(field.getKey())).append(": ");
        render(field.getValue(), out);
        out.append(fields.hasNext() ? ", " : "");
      }
      out.append('}');
    } else if (node.isArray()) {
      out.append('[');
      for (int i = 0; i < node.size() && out.length() <= MAX_SHOWN; i++) {
        render(node.get(i), out);
        out.append(i + 1 < node.size() ? ", " : "");
      }
      out.append(']');
    } else {
      out.append(scalar(node.asText()));
    }
  }

  private static String scalar(String text) {
    if (text.isEmpty()) {
      return "\"\"";
    }
    boolean quote =
        Character.isWhitespace(text.charAt(0))
            || Character.isWhitespace(text.charAt(text.length() - 1))
            || text.chars().anyMatch(Character::isISOControl);
    return quote ? quoted(text) : text;
  }

  private static String quoted(String text) {
    StringBuilder out = new StringBuilder(text.length() + 2).append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (Character.isISOControl(c)) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }

  private static String shorten(String shown) {
    return shown.length() <= MAX_SHOWN ? shown : shown.substring(0, MAX_SHOWN - 3) + "...";
  }
}
