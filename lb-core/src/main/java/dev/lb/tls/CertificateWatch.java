package dev.lb.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Watches certificate files for changes by looking at them every second (on a thread of its own: file system calls
 * never run on an event loop) and, once {@code interval} has passed since the last look, comparing each file's real
 * path (a Kubernetes Secret or ConfigMap volume swaps a symlink to a new directory), modification time and size with
 * what they were. A change calls {@code onChange}, which re-reads them. Polling rather than inotify: it sees a symlink
 * swap, a file replaced by rename, and files on network volumes the same way, at the cost of a few stat calls.
 */
public final class CertificateWatch implements AutoCloseable {
  private final ScheduledExecutorService thread;
  private final Supplier<@Nullable Watched> source;
  private final Runnable onChange;
  private @Nullable String last;
  private long lastLook;

  /** What to watch now: the files and how often to look (zero: not at all). */
  public record Watched(List<Path> files, Duration interval) {}

  public CertificateWatch(Supplier<@Nullable Watched> source, Runnable onChange) {
    this.source = source;
    this.onChange = onChange;
    this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "lb-tls-watch");
      t.setDaemon(true);
      return t;
    });
    Watched w = source.get();
    last = w == null ? null : signature(w.files());
    lastLook = System.nanoTime();
    thread.scheduleWithFixedDelay(this::tick, 1, 1, TimeUnit.SECONDS);
  }

  private void tick() {
    try {
      Watched w = source.get();
      if (w == null || w.interval().isZero()) {
        return;
      }
      long now = System.nanoTime();
      if (now - lastLook < w.interval().toNanos() - 50_000_000L) {
        return;
      }
      lastLook = now;
      String seen = signature(w.files());
      if (!seen.equals(last)) {
        last = seen;
        onChange.run();
      }
    } catch (RuntimeException e) {
      // A failed look is retried at the next one.
    }
  }

  /** Records the files as they are now, after they were read (a reload), so that the change is not read twice. */
  public void seen(List<Path> files) {
    thread.execute(() -> last = signature(files));
  }

  /** The files' real paths, modification times and sizes; a file that cannot be read counts as its own state. */
  static String signature(List<Path> files) {
    StringBuilder sb = new StringBuilder();
    for (Path f : files) {
      try {
        Path real = f.toRealPath();
        sb.append(real).append('@').append(Files.getLastModifiedTime(real).toMillis()).append('+')
            .append(Files.size(real));
      } catch (IOException e) {
        sb.append(f).append("!missing");
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  @Override
  public void close() {
    thread.shutdownNow();
  }
}
