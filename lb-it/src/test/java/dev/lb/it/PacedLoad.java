package dev.lb.it;

import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.RawResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * One client's {@code GET /} at a steady rate, spread round robin over several balancers: request k goes to
 * {@code ports[k % n]} and is due at {@code start + k / rate}. Each balancer has threads of its own, each with a
 * keep-alive connection to it; a thread takes its balancer's next request, waits for its moment, sends it and reads
 * the whole answer. So one balancer that stalls does not hold up the requests to the others, and the rate holds as
 * long as a balancer's threads are not all waiting for answers; a thread that falls behind sends at once, so a pause
 * is made up for afterwards (as a client with a backlog would). Every answer, or the socket error in its place, is
 * kept as an {@link Outcome} with its times.
 */
final class PacedLoad implements AutoCloseable {
  /** One request: the balancer's index, when it was sent and its answer read in full, and the answer or the error. */
  record Outcome(int replica, long sentNanos, long doneNanos, int status, boolean retryAfter, @Nullable String error) {
    boolean admitted() {
      return status == 200;
    }

    double millis() {
      return (doneNanos - sentNanos) / 1e6;
    }
  }

  private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

  private final int[] ports;
  private final byte[] request;
  private final double periodNanos;
  private final long origin;
  private final long end;
  private final AtomicLong[] tickets;
  private final ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
  private final ExecutorService threads;
  private volatile boolean stopped;

  private PacedLoad(int[] ports, String key, double perSecond, int threadsEach, @Nullable Duration duration) {
    this.ports = ports.clone();
    this.tickets = new AtomicLong[ports.length];
    this.request = ("GET / HTTP/1.1\r\nHost: lb\r\nX-API-Key: " + key + "\r\n\r\n").getBytes(StandardCharsets.UTF_8);
    this.periodNanos = 1e9 / perSecond;
    this.origin = System.nanoTime();
    this.end = duration == null ? Long.MAX_VALUE : origin + duration.toNanos();
    this.threads = Executors.newFixedThreadPool(threadsEach * ports.length);
    for (int r = 0; r < ports.length; r++) {
      tickets[r] = new AtomicLong();
      int replica = r;
      for (int i = 0; i < threadsEach; i++) {
        threads.submit(() -> work(replica));
      }
    }
  }

  /**
   * Starts sending {@code perSecond} requests a second until {@link #stop()}, from {@code threadsEach} threads per
   * balancer.
   */
  static PacedLoad start(int[] ports, String key, double perSecond, int threadsEach) {
    return new PacedLoad(ports, key, perSecond, threadsEach, null);
  }

  /**
   * Sends {@code perSecond} requests a second for {@code duration} (what is not sent by then is not sent), and returns
   * when every answer is in.
   */
  static PacedLoad run(int[] ports, String key, double perSecond, int threadsEach, Duration duration)
      throws InterruptedException {
    PacedLoad load = new PacedLoad(ports, key, perSecond, threadsEach, duration);
    load.awaitEnd(duration.plusMinutes(2));
    return load;
  }

  private void work(int r) {
    int n = ports.length;
    RawHttpClient connection = null;
    try {
      while (true) {
        long k = tickets[r].getAndIncrement() * n + r;
        long due = origin + (long) (k * periodNanos);
        if (stopped || due - end > 0 || System.nanoTime() - end > 0) {
          return;
        }
        for (long wait = due - System.nanoTime(); wait > 0 && !stopped; wait = due - System.nanoTime()) {
          LockSupport.parkNanos(wait);
        }
        if (stopped) {
          return;
        }
        long sent = System.nanoTime();
        try {
          if (connection == null) {
            connection = RawHttpClient.connect(ports[r]).timeout(READ_TIMEOUT);
          }
          connection.send(request);
          RawResponse response = connection.readResponse();
          outcomes.add(new Outcome(r, sent, System.nanoTime(), response.status(),
              response.header("Retry-After") != null, null));
          if ("close".equalsIgnoreCase(response.header("Connection"))) {
            connection = close(connection);
          }
        } catch (IOException | RuntimeException e) {
          outcomes.add(new Outcome(r, sent, System.nanoTime(), 0, false, e.toString()));
          connection = close(connection);
        }
      }
    } finally {
      close(connection);
    }
  }

  private static @Nullable RawHttpClient close(@Nullable RawHttpClient connection) {
    if (connection != null) {
      try {
        connection.close();
      } catch (IOException ignored) {
        // Closing a broken connection.
      }
    }
    return null;
  }

  /** Sends nothing more and waits for the answers on their way. */
  void stop() throws InterruptedException {
    stopped = true;
    awaitEnd(Duration.ofMinutes(2));
  }

  private void awaitEnd(Duration limit) throws InterruptedException {
    threads.shutdown();
    if (!threads.awaitTermination(limit.toMillis(), TimeUnit.MILLISECONDS)) {
      threads.shutdownNow();
      throw new AssertionError("load threads still running after " + limit);
    }
  }

  /** Every request so far, in the order the answers came. */
  List<Outcome> outcomes() {
    return new ArrayList<>(outcomes);
  }

  /** Those of {@link #outcomes()} that match. */
  List<Outcome> outcomes(Predicate<Outcome> which) {
    return outcomes.stream().filter(which).toList();
  }

  @Override
  public void close() throws InterruptedException {
    if (!threads.isTerminated()) {
      stopped = true;
      threads.shutdownNow();
      threads.awaitTermination(30, TimeUnit.SECONDS);
    }
  }
}
