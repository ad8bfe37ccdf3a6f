package dev.lb.it;

import static dev.lb.it.DirectMemory.mib;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lb.it.support.PrometheusText;
import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.RawResponse;
import dev.lb.it.support.TestBackend;
import dev.lb.testing.LeakFailExtension;
import dev.lb.testing.RecordingLeakDetector;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A long run of mixed traffic through an in-process balancer, then proof that nothing was kept: every request's
 * outcome is one its kind allows, Netty's paranoid leak detector (shown to be live by a deliberate leak at the end)
 * reports nothing, and the buffers still allocated and the allocator's direct memory are back where they were after
 * a warm-up run of the same traffic.
 *
 * <p>The traffic, from {@value #THREADS} keep-alive clients: plain GETs; POSTs with bodies echoed back; GETs on a key
 * whose rate limit is tight (429s); backend faults (a 502 answered by the backend, a backend that resets or closes
 * without answering, and now and then a backend that answers garbage); malformed requests (400, connection closed);
 * and clients that abort with a reset in the middle of a request or of its body.
 *
 * <p>The number of requests is {@code -Dlb.soak.requests=N}: 50,000 by default, a million in CI (the {@code soak}
 * profile in this module's pom, active when the {@code CI} environment variable is set).
 */
class SoakIT {
  private static final long REQUESTS = Long.getLong("lb.soak.requests", 50_000);
  private static final int THREADS = 8;
  /** Buffers that may stay allocated after the run beyond the warm-up's (lazily made shared buffers). */
  private static final int TRACKED_TOLERANCE = 16;
  /** Direct memory the allocator may keep beyond the warm-up's: a couple of its chunks at most. */
  private static final long MEMORY_TOLERANCE = 8L << 20;

  /** The kinds of request, each with the outcomes it may have. */
  enum Kind {
    GET, ECHO, LIMITED, BACKEND_502, BACKEND_RESET, BACKEND_CLOSE, MALFORMED, ABORT_HEAD, ABORT_BODY
  }

  @Test
  void aLongMixedRunLeavesNothingBehind() throws Exception {
    Run warmup = run(Math.max(2_000, REQUESTS / 20));
    warmup.assertAccounted();
    Level before = Level.now();

    long start = System.nanoTime();
    Run soak = run(REQUESTS);
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    Level after = Level.now();

    System.out.printf("soak: %d requests in %.1f s (%.0f requests/s) from %d clients: %s%n", soak.sent(),
        took.toMillis() / 1000.0, soak.sent() * 1e9 / took.toNanos(), THREADS, soak.counts);
    System.out.printf("soak: tracked buffers %d after warm-up, %d after soak (peak %d during it); direct memory %s"
        + " after warm-up, %s after soak%n", before.tracked, after.tracked, soak.peakTracked.get(),
        mib(before.direct), mib(after.direct));
    soak.assertAccounted();
    assertThat(soak.sent()).isEqualTo(REQUESTS);
    assertThat(soak.peakTracked.get()).as("buffers tracked by the leak detector while traffic flowed")
        .isGreaterThan(before.tracked);
    assertThat(after.tracked - before.tracked).as("buffers still allocated after the soak, beyond the warm-up's")
        .isLessThanOrEqualTo(TRACKED_TOLERANCE);
    assertThat(after.direct - before.direct).as("direct memory held after the soak, beyond the warm-up's (%s, %s)",
        mib(before.direct), mib(after.direct)).isLessThanOrEqualTo(MEMORY_TOLERANCE);

    assertTheLeakDetectorIsLive();
  }

  /** Balancer, backends and clients, all started and stopped for {@code requests} requests. */
  private static Run run(long requests) throws Exception {
    Run run = new Run(requests);
    try (TestBackend b1 = TestBackend.start("b1"); TestBackend b2 = TestBackend.start("b2");
        RawBackend garbage = RawBackend.answering("HTTP/1.1 2OO OK\r\nGarbage\r\n\r\n")) {
      try (Lb lb = Lb.builder().workers(2)
          .set("balancing.algorithm", "weighted_round_robin")
          .backend(b1.url(), 50).backend(b2.url(), 50).backend(garbage.url(), 1)
          .set("proxy.max_retries", "2")
          // The budget never binds here: the /reset and /close requests (8 %) spend their retries, with backoff,
          // for tens of milliseconds each, and with the default budget (3 in flight with 8 clients) a GET whose
          // attempt hit the garbage backend could find it spent and rightly get 502. The soak checks that every
          // request gets the answer its kind allows; BackendFailuresIT checks the budget.
          .set("proxy.retry_budget", "{ percent: 20, min_concurrent: " + THREADS + " }")
          .set("rate_limit.enabled", "true")
          .set("rate_limit.client_key", "\"header:X-API-Key\"")
          .set("rate_limit.default", "{ capacity: 1000000, rate_per_sec: 1000000 }")
          .set("rate_limit.clients", "[ { client_id: tight, capacity: 5, rate_per_sec: 1 } ]")
          .set("store.url", "\"jdbc:h2:mem:soak-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1\"")
          .set("logging.access_log", "false")
          .start()) {
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < THREADS; i++) {
          int id = i;
          Thread t = new Thread(() -> run.client(lb.port(), id), "soak-" + i);
          t.setDaemon(true);
          t.start();
          threads.add(t);
        }
        for (Thread t : threads) {
          t.join(Duration.ofMinutes(30).toMillis());
          assertThat(t.isAlive()).as("%s finished", t.getName()).isFalse();
        }
        await("every client connection closed").atMost(Duration.ofSeconds(30))
            .until(() -> lb.server().proxy().connections() == 0);
        PrometheusText metrics;
        try (RawHttpClient admin = RawHttpClient.connect(lb.adminPort())) {
          metrics = PrometheusText.parse(admin.get("/metrics").readResponse().bodyString());
        }
        assertThat((long) metrics.valueOrZero("lb_ratelimit_rejected_total")).as("429s counted by the balancer")
            .isEqualTo(run.count(Kind.LIMITED, 429));
      }
    }
    return run;
  }

  /** The leak detector in this JVM reports a buffer dropped unreleased: the silence above means something. */
  private static void assertTheLeakDetectorIsLive() {
    LeakFailExtension.check("the soak");
    leakOneBuffer();
    List<String> reports = new ArrayList<>();
    for (int i = 0; i < 20 && reports.isEmpty(); i++) {
      System.gc();
      ByteBuf probe = UnpooledByteBufAllocator.DEFAULT.directBuffer(1);
      probe.release();
      reports.addAll(RecordingLeakDetector.drain());
      sleep(50);
    }
    assertThat(reports).as("reports of the buffer leaked on purpose").hasSize(1);
    assertThat(reports.get(0)).contains("LEAK");
  }

  @SuppressWarnings("unused")
  private static void leakOneBuffer() {
    ByteBuf leaked = ByteBufAllocator.DEFAULT.directBuffer(64);
    leaked.writeLong(42);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Buffers allocated and direct memory held, once the collector and the leak detector have caught up. */
  private record Level(int tracked, long direct) {
    static Level now() {
      LeakFailExtension.check("a soak run");
      return new Level(TrackedBuffers.count(), DirectMemory.used());
    }
  }

  /** The requests of one run, shared out among the clients, and what came of each. */
  private static final class Run {
    private final AtomicLong toSend;
    private final long requests;
    private final Map<Kind, Map<Integer, AtomicLong>> counts = new EnumMap<>(Kind.class);
    private final ConcurrentLinkedQueue<String> unexpected = new ConcurrentLinkedQueue<>();
    private final AtomicLong unexpectedCount = new AtomicLong();
    private final AtomicLong peakTracked = new AtomicLong();
    /** Whether the last response of this thread's connection announced its close. */
    private static final ThreadLocal<Boolean> CLOSING = ThreadLocal.withInitial(() -> false);

    Run(long requests) {
      this.requests = requests;
      this.toSend = new AtomicLong(requests);
      for (Kind k : Kind.values()) {
        counts.put(k, new java.util.concurrent.ConcurrentHashMap<>());
      }
    }

    long sent() {
      return counts.values().stream().flatMap(m -> m.values().stream()).mapToLong(AtomicLong::get).sum();
    }

    long count(Kind kind, int outcome) {
      AtomicLong n = counts.get(kind).get(outcome);
      return n == null ? 0 : n.get();
    }

    void assertAccounted() {
      assertThat(unexpectedCount.get()).as("requests with an outcome their kind does not allow, e.g. %s; all: %s",
          List.copyOf(unexpected), counts).isZero();
      assertThat(sent()).as("outcomes recorded").isEqualTo(requests);
      // A GET the garbage backend (one share in 101) answered is sent again to another backend: none gets a 502.
      assertThat(count(Kind.GET, 502)).as("GETs answered 502 by the balancer").isZero();
      if (requests >= 10_000) {
        assertThat(count(Kind.LIMITED, 429)).as("429s").isPositive();
        assertThat(count(Kind.GET, 200)).as("200s").isPositive();
        assertThat(count(Kind.BACKEND_RESET, 502)).as("502s after backend resets").isPositive();
        assertThat(count(Kind.MALFORMED, 400)).as("400s").isPositive();
      }
    }

    /** One client: takes requests from the shared count until none is left. */
    void client(int port, int id) {
      Random random = new Random(id);
      RawHttpClient client = null;
      try {
        while (toSend.getAndDecrement() > 0) {
          Kind kind = pick(random);
          if (client == null) {
            client = RawHttpClient.connect(port);
          }
          int outcome;
          CLOSING.set(false);
          try {
            outcome = send(client, kind, random);
          } catch (IOException e) {
            outcome = -1;
            note(kind, e.toString());
          }
          counts.get(kind).computeIfAbsent(outcome, o -> new AtomicLong()).incrementAndGet();
          if (outcome <= 0 || CLOSING.get()) {
            // Aborted by us, closed by the balancer, or failed: a new connection for the next request.
            close(client);
            client = null;
          }
          if ((toSend.get() & 1023) == 0) {
            peakTracked.accumulateAndGet(TrackedBuffers.count(), Math::max);
          }
        }
      } catch (IOException e) {
        note(null, "cannot connect: " + e);
      } finally {
        close(client);
      }
    }

    private static Kind pick(Random random) {
      int r = random.nextInt(100);
      if (r < 50) {
        return Kind.GET;
      } else if (r < 65) {
        return Kind.ECHO;
      } else if (r < 75) {
        return Kind.LIMITED;
      } else if (r < 80) {
        return Kind.BACKEND_502;
      } else if (r < 84) {
        return Kind.BACKEND_RESET;
      } else if (r < 88) {
        return Kind.BACKEND_CLOSE;
      } else if (r < 92) {
        return Kind.MALFORMED;
      } else if (r < 96) {
        return Kind.ABORT_HEAD;
      }
      return Kind.ABORT_BODY;
    }

    /** Sends one request of {@code kind}; returns the status, or 0 when the client aborted on purpose. */
    private int send(RawHttpClient client, Kind kind, Random random) throws IOException {
      switch (kind) {
        case GET: {
          RawResponse r = client.get("/").readResponse();
          expect(kind, r, r.status() == 200 && r.bodyString().matches("b[12]"));
          return r.status();
        }
        case ECHO: {
          byte[] body = new byte[1 + random.nextInt(16 * 1024)];
          random.nextBytes(body);
          client.send(("POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: " + body.length + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
          client.send(body);
          RawResponse r = client.readResponse();
          // A body sent to the garbage backend cannot be retried elsewhere: 502 is its fair answer.
          expect(kind, r, (r.status() == 200 && java.util.Arrays.equals(r.body(), body))
              || isJsonError(r, 502));
          return r.status();
        }
        case LIMITED: {
          RawResponse r = client.send("GET / HTTP/1.1\r\nHost: soak\r\nX-API-Key: tight\r\n\r\n").readResponse();
          expect(kind, r, r.status() == 200 || (isJsonError(r, 429) && r.header("Retry-After") != null));
          return r.status();
        }
        case BACKEND_502: {
          RawResponse r = client.get("/status?code=502").readResponse();
          expect(kind, r, (r.status() == 502 && r.bodyString().matches("b[12] 502")) || isJsonError(r, 502));
          return r.status();
        }
        case BACKEND_RESET: {
          RawResponse r = client.get("/reset").readResponse();
          expect(kind, r, isJsonError(r, 502));
          return r.status();
        }
        case BACKEND_CLOSE: {
          RawResponse r = client.get("/close").readResponse();
          expect(kind, r, isJsonError(r, 502));
          return r.status();
        }
        case MALFORMED: {
          RawResponse r = client.send("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").readResponse();
          expect(kind, r, isJsonError(r, 400));
          return r.status();
        }
        case ABORT_HEAD:
          client.send("GET /slow?ms=" + random.nextInt(20) + " HTTP/1.1\r\nHost: soak\r\n\r\n");
          client.abort();
          return 0;
        case ABORT_BODY:
          client.send("POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: 100000\r\n\r\n");
          client.send(new byte[1 + random.nextInt(30_000)]);
          client.abort();
          return 0;
        default:
          throw new IllegalStateException(kind.name());
      }
    }

    private static boolean isJsonError(RawResponse r, int status) {
      return r.status() == status && r.header("Content-Type") != null
          && r.header("Content-Type").startsWith("application/json")
          && r.bodyString().startsWith("{\"code\":" + status + ",");
    }

    private void expect(Kind kind, RawResponse r, boolean ok) {
      CLOSING.set(r.headers().hasToken("Connection", "close"));
      if (!ok) {
        note(kind, r.status() + " " + r.headers() + " " + r.bodyString());
      }
    }

    private void note(Kind kind, String what) {
      if (unexpectedCount.incrementAndGet() <= 10) {
        unexpected.add(kind + ": " + what);
      }
    }

    private static void close(RawHttpClient client) {
      if (client != null) {
        try {
          client.close();
        } catch (IOException e) {
          // Going away anyway.
        }
      }
    }
  }
}
