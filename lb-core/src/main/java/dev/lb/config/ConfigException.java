package dev.lb.config;

import java.util.List;

/**
 * A configuration that cannot be used. Each entry of {@link #errors()} is one line; for a bad field it reads
 * {@code path.to.field: value (expected: ...)}, for a file that cannot be read or parsed it names the file and the
 * cause. {@link #getMessage()} is the lines joined by {@code \n}, ready to print.
 */
public final class ConfigException extends Exception {
  private final List<String> errors;

  /** @param errors one line each, in the order they should be shown; at least one */
  public ConfigException(List<String> errors) {
    super(String.join("\n", errors));
    if (errors.isEmpty()) {
      throw new IllegalArgumentException("a ConfigException needs at least one error");
    }
    this.errors = List.copyOf(errors);
  }

  public ConfigException(String error) {
    this(List.of(error));
  }

  /** The error lines, in document order. */
  public List<String> errors() {
    return errors;
  }
}
