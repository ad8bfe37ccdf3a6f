package dev.lb.it.support;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format (0.0.4): every line is a {@code # HELP}, a
 * {@code # TYPE} (before the family's samples, once), or a sample {@code name{label="value",...} value [timestamp]}
 * with legal names, escaped label values and a number. Throws on the first line that is none of these.
 */
public final class PrometheusText {
  private static final String NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") .*|# HELP (" + NAME + ")");
  private static final Pattern TYPE =
      Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");
  private static final Pattern SAMPLE = Pattern.compile(
      "(" + NAME + ")(\\{(.*)\\})? (-?[0-9.eE+\\-]+|[+-]?Inf|NaN)( -?[0-9]+)?");
  private static final Pattern LABEL =
      Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\\\n]|\\\\[\\\\\"n])*)\"(,|$)");

  private final Map<String, Double> samples = new LinkedHashMap<>();
  private final Map<String, String> types = new HashMap<>();

  private PrometheusText() {}

  /** Parses a whole scrape. */
  public static PrometheusText parse(String text) {
    PrometheusText out = new PrometheusText();
    int n = 0;
    for (String line : text.split("\n", -1)) {
      n++;
      if (line.isEmpty()) {
        continue;
      }
      if (line.startsWith("# HELP")) {
        require(HELP.matcher(line).matches(), n, line);
      } else if (line.startsWith("# TYPE")) {
        Matcher m = TYPE.matcher(line);
        require(m.matches(), n, line);
        require(out.types.put(m.group(1), m.group(2)) == null, n, line + " (a second TYPE)");
      } else if (line.startsWith("#")) {
        continue;
      } else {
        Matcher m = SAMPLE.matcher(line);
        require(m.matches(), n, line);
        String labels = m.group(3) == null ? "" : m.group(3);
        if (!labels.isEmpty()) {
          Matcher l = LABEL.matcher(labels);
          int at = 0;
          while (at < labels.length()) {
            require(l.find(at) && l.start() == at, n, line + " (labels)");
            at = l.end();
          }
        }
        double value = Double.parseDouble(m.group(4).replace("Inf", "Infinity"));
        out.samples.put(m.group(1) + (labels.isEmpty() ? "" : "{" + labels + "}"), value);
      }
    }
    return out;
  }

  private static void require(boolean ok, int line, String text) {
    if (!ok) {
      throw new IllegalArgumentException("line " + line + " is not in the Prometheus text format: " + text);
    }
  }

  /** The value of one series, written exactly as exported ({@code name{a="x",b="y"}}), or null. */
  public Double value(String series) {
    return samples.get(series);
  }

  /** The value of a series, 0 when it is absent (a counter not created yet). */
  public double valueOrZero(String series) {
    Double v = samples.get(series);
    return v == null ? 0 : v;
  }

  public Map<String, Double> samples() {
    return samples;
  }

  /** The declared type of a family, or null. */
  public String type(String family) {
    return types.get(family);
  }
}
