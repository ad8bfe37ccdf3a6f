package dev.lb.server;

import dev.lb.balance.LoadBalancers;
import dev.lb.config.ConfigException;
import dev.lb.config.LbConfig;
import java.util.ArrayList;
import java.util.List;

/** Checks that go beyond the file's shape: what this build can run. Same messages as the loader's. */
final class Plans {
  private Plans() {}

  static void check(LbConfig config) throws ConfigException {
    List<String> errors = new ArrayList<>();
    try {
      LoadBalancers.create(config.balancing());
    } catch (IllegalArgumentException e) {
      errors.add(e.getMessage());
    }
    if (!errors.isEmpty()) {
      throw new ConfigException(errors);
    }
  }
}
