package dev.lb.server.admin;

import java.util.List;

/**
 * How a reload went, as {@code POST /reload} answers it and the log tells it.
 *
 * @param file the configuration file read
 * @param result {@code applied} (something changed and now runs), {@code unchanged} (the file says what runs), or
 *     {@code refused} (the file has errors or the store could not be reached; the running configuration stays)
 * @param changes the changed keys against the previous configuration, {@code path: old -> new}, secrets masked
 * @param restartRequired the keys that differ from what the process started with and take effect only after a
 *     restart (listener and admin addresses, workers, transport, store, log format)
 * @param errors why a refused reload was refused, one line per bad field
 */
public record ReloadOutcome(
    String file, String result, List<String> changes, List<String> restartRequired, List<String> errors) {

  public ReloadOutcome {
    changes = List.copyOf(changes);
    restartRequired = List.copyOf(restartRequired);
    errors = List.copyOf(errors);
  }

  /** Whether the file now runs (applied or unchanged). */
  public boolean applied() {
    return !"refused".equals(result);
  }
}
