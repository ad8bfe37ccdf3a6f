package dev.lb.config;

import java.time.Duration;

/**
 * The configuration file itself ({@code config}): whether lb reloads it when it changes on disk, without a signal.
 *
 * @param watch reload when the file's contents change (a Kubernetes ConfigMap's symlink swap included)
 * @param watchInterval how often the file is read to see whether it changed
 * @param watchDebounce how long a change must stay as it is before the reload, so that a burst of writes makes one
 */
public record ConfigFileConfig(boolean watch, Duration watchInterval, Duration watchDebounce) {
  public static ConfigFileConfig defaults() {
    return new ConfigFileConfig(false, Duration.ofSeconds(1), Duration.ofSeconds(2));
  }
}
