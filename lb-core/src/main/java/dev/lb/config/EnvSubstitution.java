package dev.lb.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Replaces {@code ${VAR}} and {@code ${VAR:-default}} in a string with values from the environment.
 *
 * <p>{@code ${VAR:-default}} takes the default when VAR is unset or empty, as the shell does. <code>$${</code> stands
 * for a literal <code>${</code>. A default ends at the first <code>}</code>; references do not nest. Names are
 * letters, digits and underscores, not starting with a digit.
 */
final class EnvSubstitution {
  static final String MALFORMED = "${NAME} or ${NAME:-default}, or $${ for a literal ${";
  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  /** A reference that could not be replaced: the reference as written and what was expected instead. */
  record Problem(String reference, String expected) {}

  /** The substituted text when {@code problems} is empty. */
  record Result(@Nullable String value, List<Problem> problems) {}

  private EnvSubstitution() {}

  static Result apply(String text, Map<String, String> env) {
    if (text.indexOf('$') < 0) {
      return new Result(text, List.of());
    }
    StringBuilder out = new StringBuilder(text.length());
    List<Problem> problems = new ArrayList<>();
    int i = 0;
    while (i < text.length()) {
      if (text.startsWith("$${", i)) {
        out.append("${");
        i += 3;
      } else if (text.startsWith("${", i)) {
        int close = text.indexOf('}', i + 2);
        if (close < 0) {
          problems.add(new Problem(text.substring(i), MALFORMED));
          break;
        }
        String body = text.substring(i + 2, close);
        int sep = body.indexOf(":-");
        String name = sep < 0 ? body : body.substring(0, sep);
        @Nullable String fallback = sep < 0 ? null : body.substring(sep + 2);
        if (!NAME.matcher(name).matches()) {
          problems.add(new Problem(text.substring(i, close + 1), MALFORMED));
        } else {
          @Nullable String value = env.get(name);
          if (fallback != null && (value == null || value.isEmpty())) {
            value = fallback;
          }
          if (value == null) {
            problems.add(new Problem("${" + name + "}", "environment variable " + name + " to be set"));
          } else {
            out.append(value);
          }
        }
        i = close + 1;
      } else {
        out.append(text.charAt(i));
        i++;
      }
    }
    return problems.isEmpty() ? new Result(out.toString(), List.of()) : new Result(null, List.copyOf(problems));
  }

  /** Writes {@code text} so that {@link #apply} gives it back: every <code>${</code> becomes <code>$${</code>. */
  static String escape(String text) {
    return text.replace("${", "$${");
  }
}
