package dev.lb.balance;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendGroup;
import dev.lb.backend.BackendHealth;
import dev.lb.backend.HealthPolicy;
import dev.lb.config.BackendConfig;
import java.time.Clock;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** Backends and pick contexts for balancer tests. */
final class Contexts {
  private Contexts() {}

  /** A backend on 127.0.0.1 at this port, with health tracked: one failure takes it out, one pass back. */
  static Backend backend(int port, int weight) {
    return new Backend(new BackendConfig("http://127.0.0.1:" + port, "127.0.0.1", port, weight),
        new BackendHealth(new HealthPolicy(true, 1, 1), Clock.systemUTC(), System::nanoTime));
  }

  static BackendGroup group(Backend... backends) {
    return BackendGroup.of(List.of(backends));
  }

  /** Takes a backend out, as three failed probes would. */
  static void kill(Backend b) {
    b.health().probeFailed("test");
  }

  /** Brings a backend back, as a passing probe would. */
  static void revive(Backend b) {
    b.health().probePassed("test");
  }

  /** A mutable pick context: tried backends, client address, headers. */
  static final class Ctx implements PickContext {
    final Set<Backend> tried = new HashSet<>();
    final Map<String, String> headers = new HashMap<>();
    String client = "192.0.2.1";

    Ctx excluding(Backend... backends) {
      tried.addAll(List.of(backends));
      return this;
    }

    Ctx client(String address) {
      this.client = address;
      return this;
    }

    Ctx header(String name, String value) {
      headers.put(name.toLowerCase(java.util.Locale.ROOT), value);
      return this;
    }

    @Override
    public boolean tried(Backend backend) {
      return tried.contains(backend);
    }

    @Override
    public CharSequence clientAddress() {
      return client;
    }

    @Override
    public @Nullable CharSequence header(CharSequence name) {
      return headers.get(name.toString().toLowerCase(java.util.Locale.ROOT));
    }
  }

  static Ctx fresh() {
    return new Ctx();
  }
}
