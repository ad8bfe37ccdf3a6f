package dev.lb.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Watches files for changes by reading them every {@code interval}, on a thread of its own (file system calls never
 * run on an event loop), and comparing their contents' digest with what was last read. Reading through the path
 * follows symlinks, so a Kubernetes ConfigMap or Secret volume's {@code ..data} symlink swap, a file replaced by
 * rename and an in-place rewrite are all seen alike, and on network volumes too; a {@code touch} that changes nothing
 * is not a change. Polling rather than inotify: the files are small (a configuration, certificates and keys).
 *
 * <p>A change calls {@code onChange} once the files have stayed the same for {@code quiet} (looked at every
 * {@code interval}): an editor's or a script's burst of writes makes one call, for the files as they ended up.
 */
public final class FileWatch implements AutoCloseable {
  /** How often to look when nothing is watched, for the source to turn the watch on. */
  private static final Duration IDLE_LOOK = Duration.ofSeconds(1);

  private final ScheduledExecutorService thread;
  private final Supplier<@Nullable Watched> source;
  private final Runnable onChange;
  /** The files as last read by a call of {@code onChange} or a reload ({@link #seen}); null before the first look. */
  private @Nullable String last;
  /** A change seen but not yet quiet for long enough, and since when it has looked like this. */
  private @Nullable String pending;
  private long pendingSince;

  /**
   * What to watch now.
   *
   * @param files the files, read through symlinks
   * @param interval how often to look at them (above zero)
   * @param quiet how long a change must stay as it is before it counts (zero: at once)
   */
  public record Watched(List<Path> files, Duration interval, Duration quiet) {
    public Watched {
      files = List.copyOf(files);
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("interval must be above zero: " + interval);
      }
    }
  }

  /**
   * Starts looking.
   *
   * @param threadName the watch thread's name (a daemon thread)
   * @param source what to watch now, read at each look; null not to watch (then it asks again a second later)
   * @param onChange runs on the watch thread after a change, when the files have been quiet for long enough
   * @param initial the files' {@link #signature} when their contents were last read, or null to take them as they are
   *     at the first look
   */
  public FileWatch(String threadName, Supplier<@Nullable Watched> source, Runnable onChange, @Nullable String initial) {
    this.source = source;
    this.onChange = onChange;
    this.last = initial;
    ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, threadName);
      t.setDaemon(true);
      return t;
    });
    // Closing lets a look under way (a reload, perhaps) finish undisturbed, and drops the next one.
    executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    this.thread = executor;
    schedule(IDLE_LOOK);
  }

  private void schedule(Duration delay) {
    try {
      thread.schedule(this::look, delay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException closed) {
      // Closed: no more looks.
    }
  }

  private void look() {
    if (thread.isShutdown()) {
      return;
    }
    Duration next = IDLE_LOOK;
    try {
      Watched w = source.get();
      if (w == null) {
        pending = null;
        return;
      }
      next = w.interval();
      String now = signature(w.files());
      if (last == null) {
        last = now;
      } else if (now.equals(last)) {
        pending = null;
      } else if (!now.equals(pending)) {
        pending = now;
        pendingSince = System.nanoTime();
        if (w.quiet().isZero()) {
          fire(now);
        }
      } else if (System.nanoTime() - pendingSince >= w.quiet().toNanos()) {
        fire(now);
      }
    } catch (RuntimeException e) {
      // A failed look or reaction is tried again at the next look.
    } finally {
      schedule(next);
    }
  }

  private void fire(String now) {
    last = now;
    pending = null;
    onChange.run();
  }

  /**
   * Records the files as they were when something else read them (a reload), so that the watch does not react to the
   * same change again. Take the signature before reading the files: a change in between is then seen, not lost.
   */
  public void seen(String signature) {
    try {
      thread.execute(() -> {
        last = signature;
        pending = null;
      });
    } catch (RejectedExecutionException closed) {
      // Closed: nothing to record.
    }
  }

  /** A digest of the files' contents, in order; a file that cannot be read counts as its own state. */
  public static String signature(List<Path> files) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    StringBuilder sb = new StringBuilder();
    for (Path f : files) {
      try {
        sb.append(HexFormat.of().formatHex(sha.digest(Files.readAllBytes(f))));
      } catch (IOException e) {
        sb.append("missing:").append(e.getClass().getSimpleName());
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  /** Stops looking; a look under way finishes (it is not interrupted), and nothing is called after it. */
  @Override
  public void close() {
    thread.shutdown();
  }
}
