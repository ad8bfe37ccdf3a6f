package dev.lb.stats;

import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * The proxy's own traffic as the status page shows it: requests answered, client connections accepted and refused,
 * requests refused by the rate limiter, requests per second now and at peak, 429s in the last minute and the clients
 * refused most in it (in memory only: a client is never a metric label).
 *
 * <p>Counting runs on the worker loops and allocates nothing but a refused client's first count in a slot.
 * {@link #tick} runs on the sampler once a second; it turns the counters into per-second rates and moves the
 * windows.
 */
public final class ProxyStats {
  private static final int SECONDS = 60;

  private final LongAdder requests = new LongAdder();
  private final LongAdder accepted = new LongAdder();
  private final LongAdder refused = new LongAdder();
  private final LongAdder limited = new LongAdder();
  private final TopClients refusedClients = new TopClients();

  // Per-second samples, guarded by this.
  private final long[] requestsPerTick = new long[SECONDS];
  private final long[] limitedPerTick = new long[SECONDS];
  private final long[] tickNanos = new long[SECONDS];
  private int head = -1;
  private int taken;
  private long lastRequests;
  private long lastLimited;
  private long lastTickNanos;
  private int ticks;
  private double peakRate;
  private long peakAtMillis;

  /** A request was answered (by a backend or by lb). */
  public void requestDone() {
    requests.increment();
  }

  public void connectionAccepted() {
    accepted.increment();
  }

  /** A client connection was closed at once: {@code max_connections} were open. */
  public void connectionRefused() {
    refused.increment();
  }

  /** The rate limiter refused a request of {@code client}. */
  public void rateLimited(String client) {
    limited.increment();
    refusedClients.count(client);
  }

  public long requests() {
    return requests.sum();
  }

  public long connectionsAccepted() {
    return accepted.sum();
  }

  public long connectionsRefused() {
    return refused.sum();
  }

  public long rateLimited() {
    return limited.sum();
  }

  /**
   * Samples the counters: once a second on the sampler ({@code nowNanos} from {@link System#nanoTime()}, and the
   * wall clock for when a peak happened).
   */
  public synchronized void tick(long nowNanos, long wallMillis) {
    long r = requests.sum();
    long l = limited.sum();
    if (lastTickNanos != 0 && nowNanos > lastTickNanos) {
      head = (head + 1) % SECONDS;
      requestsPerTick[head] = r - lastRequests;
      limitedPerTick[head] = l - lastLimited;
      tickNanos[head] = nowNanos - lastTickNanos;
      taken = Math.min(taken + 1, SECONDS);
      double rate = rate(head);
      if (rate > peakRate) {
        peakRate = rate;
        peakAtMillis = wallMillis;
      }
    }
    lastRequests = r;
    lastLimited = l;
    lastTickNanos = nowNanos;
    if (++ticks % TopClients.SLOT_SECONDS == 0) {
      refusedClients.rotate();
    }
  }

  private double rate(int i) {
    return tickNanos[i] <= 0 ? 0 : requestsPerTick[i] * 1e9 / tickNanos[i];
  }

  /** Requests per second over the last sampled second; 0 before the first. */
  public synchronized double requestsPerSecond() {
    return taken == 0 ? 0 : rate(head);
  }

  /** The highest {@link #requestsPerSecond()} sampled since start. */
  public synchronized double peakRequestsPerSecond() {
    return peakRate;
  }

  /** When the peak was sampled (epoch milliseconds), or 0 before any request. */
  public synchronized long peakAtMillis() {
    return peakAtMillis;
  }

  /** Requests refused by the rate limiter over the last minute (the sampled seconds, plus those since). */
  public synchronized long rateLimitedLastMinute() {
    long sum = limited.sum() - lastLimited;
    for (int k = 0; k < Math.min(taken, SECONDS - 1); k++) {
      sum += limitedPerTick[Math.floorMod(head - k, SECONDS)];
    }
    return sum;
  }

  /** The {@code n} clients the rate limiter refused most over about the last minute. */
  public List<TopClients.Entry> topRefused(int n) {
    return refusedClients.top(n);
  }
}
