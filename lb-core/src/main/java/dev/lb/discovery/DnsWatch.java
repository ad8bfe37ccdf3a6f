package dev.lb.discovery;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import dev.lb.config.Durations;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jspecify.annotations.Nullable;

/**
 * One watched name: resolves it, reports its member set when that changes, and schedules the next resolution. All
 * state but the published {@link #status()} and the closed flag lives on the event loop.
 *
 * <ul>
 *   <li>An answer replaces the members and is refreshed after its smallest TTL, clamped to the refresh bounds.
 *   <li>A negative answer (NXDOMAIN, no records) keeps the members until the name has answered only negatively for
 *       the NX hold (failures in between do not end that streak, good answers do), then drops them; it is retried
 *       after the minimum refresh.
 *   <li>A failure keeps the members; it is retried after the minimum refresh, doubled with each further failure in a
 *       row up to the maximum refresh.
 * </ul>
 */
final class DnsWatch implements Watch {
  private static final Logger log = LogManager.getLogger(DnsDiscovery.class);
  /** Members named in one change line; the rest are counted. */
  private static final int LOGGED = 10;

  private final DnsTarget target;
  private final DnsLookup lookup;
  private final EventLoop loop;
  private final DiscoverySettings settings;
  private final Consumer<List<Member>> listener;
  private final Consumer<DnsWatch> onClose;
  private volatile WatchStatus status;
  private volatile boolean closed;

  private List<Member> members = List.of();
  private boolean reported;
  private @Nullable Instant lastAnswer;
  private @Nullable String lastError;
  private @Nullable Instant lastErrorAt;
  private @Nullable Instant nxSince;
  private long nxSinceNanos;
  private int failures;
  private @Nullable ScheduledFuture<?> next;

  DnsWatch(DnsTarget target, DnsLookup lookup, EventLoop loop, DiscoverySettings settings,
      Consumer<List<Member>> listener, Consumer<DnsWatch> onClose) {
    this.target = target;
    this.lookup = lookup;
    this.loop = loop;
    this.settings = settings;
    this.listener = listener;
    this.onClose = onClose;
    this.status = snapshot(Instant.now());
  }

  /** Resolves the name for the first time, soon, on the loop. */
  void start() {
    loop.execute(this::refresh);
  }

  @Override
  public WatchStatus status() {
    return status;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    onClose.accept(this);
    try {
      loop.execute(() -> {
        ScheduledFuture<?> pending = next;
        next = null;
        if (pending != null) {
          pending.cancel(false);
        }
      });
    } catch (RejectedExecutionException e) {
      // The loop has shut down, and its scheduled tasks with it.
    }
  }

  private void refresh() {
    next = null;
    if (!closed) {
      lookup.resolve(target).addListener((Future<Outcome<Member>> f) -> handle(f.getNow()));
    }
  }

  private void handle(Outcome<Member> outcome) {
    if (closed) {
      return;
    }
    Instant now = Instant.now();
    Duration delay = switch (outcome.kind()) {
      case ANSWER -> answered(outcome, now);
      case NEGATIVE -> negative(outcome.detail(), now);
      case FAILURE -> failed(outcome.detail(), now);
    };
    next = loop.schedule(this::refresh, delay.toNanos(), NANOSECONDS);
    status = snapshot(now.plus(delay));
  }

  private Duration answered(Outcome<Member> answer, Instant now) {
    lastAnswer = now;
    nxSince = null;
    failures = 0;
    report(answer.items());
    Duration ttl = Duration.ofSeconds(answer.ttlSeconds());
    return min(settings.maxRefresh(), ttl.compareTo(settings.minRefresh()) < 0 ? settings.minRefresh() : ttl);
  }

  private Duration negative(String detail, Instant now) {
    lastAnswer = now;
    lastError = detail;
    lastErrorAt = now;
    failures = 0;
    long nanos = System.nanoTime();
    if (nxSince == null) {
      nxSince = now;
      nxSinceNanos = nanos;
      if (!members.isEmpty()) {
        log.warn("dns {}: {}; keeping {} for up to {}", target.name(), detail, count(members.size()),
            Durations.format(settings.nxHold()));
      }
    }
    Duration left = settings.nxHold().minusNanos(nanos - nxSinceNanos);
    if (left.isNegative() || left.isZero() || members.isEmpty()) {
      report(List.of());
      return settings.minRefresh();
    }
    return min(settings.minRefresh(), left);
  }

  private Duration failed(String detail, Instant now) {
    lastError = detail;
    lastErrorAt = now;
    failures++;
    if (failures == 1) {
      log.warn("dns {}: {}; {}", target.name(), detail,
          reported ? "keeping " + count(members.size()) : "no addresses yet");
    }
    Duration backoff = settings.minRefresh().multipliedBy(1L << Math.min(failures - 1, 20));
    return min(settings.maxRefresh(), backoff);
  }

  /** Hands the members to the listener if they are the first or differ from the last. */
  private void report(List<Member> now) {
    if (reported && now.equals(members)) {
      return;
    }
    List<Member> before = members;
    members = now;
    reported = true;
    log.info("dns {}: {} -> {} ({})", target.name(), before.size(), count(now.size()), changes(before, now));
    try {
      listener.accept(now);
    } catch (RuntimeException e) {
      log.error("dns {}: the listener failed on {}", target.name(), count(now.size()), e);
    }
  }

  private String changes(List<Member> before, List<Member> now) {
    List<String> lines = new ArrayList<>();
    Set<Member> kept = new HashSet<>(now);
    Set<Member> old = new HashSet<>(before);
    for (Member m : before) {
      if (!kept.contains(m)) {
        lines.add("-" + describe(m));
      }
    }
    for (Member m : now) {
      if (!old.contains(m)) {
        lines.add("+" + describe(m));
      }
    }
    if (lines.size() > LOGGED) {
      int more = lines.size() - LOGGED;
      lines = new ArrayList<>(lines.subList(0, LOGGED));
      lines.add("and " + more + " more");
    }
    return String.join(", ", lines);
  }

  private String describe(Member m) {
    return target instanceof DnsTarget.Srv ? m.hostPort() + " weight " + m.weight() : m.hostPort();
  }

  private static String count(int n) {
    return n == 1 ? "1 address" : n + " addresses";
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private WatchStatus snapshot(Instant nextRefresh) {
    return new WatchStatus(target.name(), target.type(), members, lastAnswer, lastError, lastErrorAt, nxSince,
        nextRefresh);
  }
}
