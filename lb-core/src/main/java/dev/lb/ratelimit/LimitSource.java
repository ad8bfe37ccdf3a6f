package dev.lb.ratelimit;

import java.util.Locale;

/** Where a client's limit comes from: the store (set through the API), the configuration, or the default. */
public enum LimitSource {
  API,
  CONFIG,
  DEFAULT;

  /** The name used in JSON: {@code api}, {@code config}, {@code default}. */
  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }
}
