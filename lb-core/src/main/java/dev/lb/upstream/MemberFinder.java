package dev.lb.upstream;

import dev.lb.config.BackendConfig;
import dev.lb.config.DnsBackendConfig;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** Finds the members of {@link DnsBackendConfig DNS backends} and tells of every change. */
@FunctionalInterface
public interface MemberFinder {

  /** One name watched; closing it stops the refreshes. */
  interface Watch extends AutoCloseable {
    /** What the admin API shows of the name: last answer, its time, last error. */
    Map<String, Object> status();

    @Override
    void close();
  }

  /**
   * Starts watching {@code target}; {@code found} hears the whole member set at each change (and the first answer),
   * as backends of {@code target}'s weight and {@code max_connections}, on any thread.
   */
  Watch watch(DnsBackendConfig target, Consumer<List<BackendConfig>> found);

  /** A finder for configurations without DNS backends: it refuses any. */
  MemberFinder NONE = (target, found) -> {
    throw new IllegalStateException("no DNS discovery to watch " + target.describe());
  };
}
