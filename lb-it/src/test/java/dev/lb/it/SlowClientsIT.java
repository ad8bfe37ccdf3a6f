package dev.lb.it;

import static dev.lb.it.DirectMemory.mib;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lb.it.support.PrometheusText;
import dev.lb.it.support.Probe;
import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.SlowClients;
import dev.lb.it.support.SlowClients.Conn;
import dev.lb.it.support.SlowClients.Kind;
import dev.lb.it.support.TestBackend;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * Slow and greedy clients cannot hold the balancer: slowloris heads, stalled bodies and responses nobody reads are
 * cut by {@code request_header_timeout} and {@code idle_timeout} (plus at most a second), while a well-behaved client
 * keeps being served throughout; and {@code listen.max_connections} refuses what is over it, counted.
 *
 * <p>The slow connections come from {@link SlowClients}: a few event loops in this JVM, not a thread each. 5,000
 * slowloris connections cost about 10,000 file descriptors here (client and balancer side); the count can be changed
 * with {@code -Dlb.slowloris.connections=N}.
 */
class SlowClientsIT {
  private static final Duration HEADER_TIMEOUT = Duration.ofSeconds(2);
  private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(3);
  private static final Duration MARGIN = Duration.ofSeconds(1);
  /**
   * How late a close may be seen: the test's own 5,000 client sockets share the 2 cores with lb and any other build, so
   * a close lb makes on time can be noticed here a second or more later.
   */
  private static final Duration LATE = Duration.ofSeconds(3);
  private static final int SLOWLORIS = Integer.getInteger("lb.slowloris.connections", 5000);
  private static final int SLOW_BODIES = 50;
  private static final int SLOW_READERS = 4;
  /** Each slow reader asks for this much, which the balancer must not hold. */
  private static final long RESPONSE_SIZE = 64L << 20;
  /** Connections opened per batch, and the pause between batches: a bounded rate, not a burst into the backlog. */
  private static final int BATCH = 25;
  private static final Duration BATCH_PAUSE = Duration.ofMillis(50);
  /**
   * A slowloris byte every this long: out of step with the header timeout, so that no byte arrives just as the
   * balancer closes (a byte sent into a closed socket draws a reset, which can destroy the unread 408 in flight).
   */
  private static final Duration DRIP = Duration.ofMillis(900);

  @AutoClose private final TestBackend backend = TestBackend.start("b1");


  @Test
  void slowClientsAreCutWithinTheirTimeoutsWhileAProbeIsServed() throws Exception {
    try (Lb lb = Lb.builder().workers(2).backends(backend)
        .set("proxy.request_header_timeout", HEADER_TIMEOUT.toSeconds() + "s")
        .set("proxy.idle_timeout", IDLE_TIMEOUT.toSeconds() + "s")
        .start();
        Probe keepAlive = Probe.keepAlive(lb.port(), "/", Duration.ofMillis(10));
        Probe fresh = Probe.newConnections(lb.port(), "/", Duration.ofMillis(100));
        SlowClients clients = new SlowClients(lb.port(), 2);
        DirectMemory memory = DirectMemory.sample()) {
      long baseline = DirectMemory.used();
      List<Conn> readers = new ArrayList<>();
      for (int i = 0; i < SLOW_READERS; i++) {
        readers.add(clients.slowRead("/bytes?n=" + RESPONSE_SIZE, 16 * 1024));
      }
      for (int i = 0; i < SLOW_BODIES; i++) {
        clients.slowBody("/sha256", 1 << 20);
      }
      for (int opened = 0; opened < SLOWLORIS; opened += BATCH) {
        for (int i = opened; i < Math.min(SLOWLORIS, opened + BATCH); i++) {
          clients.slowHead("/", DRIP);
        }
        Thread.sleep(BATCH_PAUSE.toMillis());   // pacing the load, not waiting for anything
      }
      List<Conn> heads = of(clients, Kind.HEAD);
      List<Conn> bodies = of(clients, Kind.BODY);

      await("every slowloris and slow-body connection closed by the balancer").atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> heads.stream().allMatch(Conn::isClosed) && bodies.stream().allMatch(Conn::isClosed));

      // A reader that never reads is noticed only when it reads: it does so once the idle timeout has long passed.
      for (Conn reader : readers) {
        await().atMost(Duration.ofSeconds(30)).until(() -> reader.lastSent() != 0);
        long readAt = reader.lastSent() + IDLE_TIMEOUT.plus(MARGIN).toNanos();
        Thread.sleep(Math.max(0, (readAt - System.nanoTime()) / 1_000_000));
        reader.startReading();
      }
      await("every slow reader sees the end of its connection").atMost(Duration.ofSeconds(30))
          .until(() -> readers.stream().allMatch(Conn::isClosed));

      System.out.printf("slowloris: %d connections, open for %s; connect took %s; %d got no 408%n", heads.size(),
          percentiles(heads, Conn::openFor), percentiles(heads, c -> Duration.ofNanos(c.opened() - c.connectStarted())),
          heads.stream().filter(c -> !c.firstBytes().startsWith("HTTP/1.1 408 ")).count());
      System.out.printf("slow bodies: %d, silent for %s%n", bodies.size(), percentiles(bodies, Conn::silentFor));
      assertThat(heads).hasSize(SLOWLORIS);
      assertNone(heads, c -> c.failure() != null, "slowloris connections that could not connect");
      assertNone(heads, c -> c.openFor().compareTo(HEADER_TIMEOUT.plus(LATE)) > 0,
          "slowloris connections open longer than request_header_timeout + 3s");
      assertNone(heads, c -> c.openFor().compareTo(HEADER_TIMEOUT.minus(MARGIN)) < 0,
          "slowloris connections closed well before request_header_timeout");
      assertNone(heads, c -> !c.firstBytes().startsWith("HTTP/1.1 408 ")
          || !c.firstBytes().endsWith("{\"code\":408,\"message\":\"Request timeout\"}"),
          "slowloris connections closed without a whole 408 JSON answer");

      assertThat(bodies).hasSize(SLOW_BODIES);
      assertNone(bodies, c -> c.failure() != null || c.lastSent() == 0, "slow bodies that were not sent");
      assertNone(bodies, c -> c.silentFor().compareTo(IDLE_TIMEOUT.plus(LATE)) > 0,
          "slow bodies whose connection stayed open longer than idle_timeout + 3s after the last byte");
      assertNone(bodies, c -> c.silentFor().compareTo(IDLE_TIMEOUT.minus(MARGIN)) < 0,
          "slow bodies cut well before idle_timeout");
      assertNone(bodies, c -> c.received() != 0, "slow bodies that got an answer (the backend never had a body)");

      assertNone(readers, c -> !c.firstBytes().startsWith("HTTP/1.1 200 "), "slow readers whose response never began");
      assertNone(readers, c -> c.received() >= RESPONSE_SIZE / 4,
          "slow readers that could read most of the response: the balancer did not close on idle_timeout");
      assertThat(memory.peak() - baseline)
          .as("direct memory added while %d slow readers left %s each unread (peak %s)", SLOW_READERS,
              mib(RESPONSE_SIZE), mib(memory.peak()))
          .isLessThan(32L << 20);

      keepAlive.close();
      fresh.close();
      assertThat(keepAlive.failures()).as("keep-alive probe failures").isEmpty();
      assertThat(fresh.failures()).as("new-connection probe failures").isEmpty();
      assertThat(keepAlive.ok()).as("keep-alive probe requests served").isGreaterThan(100);
      assertThat(fresh.ok()).as("new-connection probe requests served").isGreaterThan(10);

      await("the balancer holds no client connection").atMost(Duration.ofSeconds(10))
          .until(() -> lb.server().proxy().connections() == 0);
      PrometheusText metrics = scrape(lb);
      assertThat(metrics.valueOrZero("lb_connections_refused_total")).isZero();
      assertThat(metrics.valueOrZero("lb_connections_accepted_total"))
          .isGreaterThanOrEqualTo(SLOWLORIS + SLOW_BODIES + SLOW_READERS + fresh.ok());
    }
  }

  @Test
  void connectionsOverMaxConnectionsAreRefusedAndCounted() throws Exception {
    try (Lb lb = Lb.builder().backends(backend).set("listen.max_connections", "3").start();
        SlowClients clients = new SlowClients(lb.port(), 1)) {
      List<RawHttpClient> held = new ArrayList<>();
      try {
        for (int i = 0; i < 3; i++) {
          RawHttpClient client = RawHttpClient.connect(lb.port());
          held.add(client);
          assertThat(client.get("/").readResponse().status()).isEqualTo(200);
        }
        // Ten more at once while three are held: each is closed at once, before any byte of an answer.
        List<Conn> over = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
          over.add(clients.slowHead("/", Duration.ofSeconds(1)));
        }
        await("connections over the limit closed").atMost(Duration.ofSeconds(10))
            .until(() -> over.stream().allMatch(Conn::isClosed));
        assertNone(over, c -> c.failure() != null, "connections not even accepted by the kernel");
        assertNone(over, c -> c.received() != 0, "connections over the limit that got bytes");
        assertNone(over, c -> c.openFor().compareTo(HEADER_TIMEOUT) >= 0,
            "connections over the limit left open until a timeout");
        assertThat(scrape(lb).valueOrZero("lb_connections_refused_total")).isEqualTo(10);
        for (RawHttpClient client : held) {
          assertThat(client.get("/").readResponse().status()).as("held connections unaffected").isEqualTo(200);
        }
      } finally {
        for (RawHttpClient client : held) {
          client.close();
        }
      }
      await("room again once the held connections closed").atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        try (RawHttpClient again = RawHttpClient.connect(lb.port())) {
          assertThat(again.get("/").readResponse().status()).isEqualTo(200);
        }
      });
      PrometheusText metrics = scrape(lb);
      assertThat(metrics.valueOrZero("lb_connections_refused_total")).isGreaterThanOrEqualTo(10);
      assertThat(metrics.valueOrZero("lb_connections_accepted_total")).isGreaterThanOrEqualTo(4);
    }
  }

  private static List<Conn> of(SlowClients clients, Kind kind) {
    return clients.conns().stream().filter(c -> c.kind() == kind).toList();
  }

  private static void assertNone(List<Conn> conns, Predicate<Conn> bad, String what) {
    List<Conn> found = conns.stream().filter(bad).toList();
    assertThat(found.size()).as("%s: %d of %d, e.g. %s", what, found.size(), conns.size(),
        found.stream().limit(5).map(Conn::toString).toList()).isZero();
  }

  /** Median, 99th percentile and maximum of {@code what}, in milliseconds. */
  private static String percentiles(List<Conn> conns, java.util.function.Function<Conn, Duration> what) {
    long[] ms = conns.stream().mapToLong(c -> what.apply(c).toMillis()).sorted().toArray();
    if (ms.length == 0) {
      return "-";
    }
    return "p50 " + ms[ms.length / 2] + " ms, p99 " + ms[(int) (ms.length * 0.99)] + " ms, max " + ms[ms.length - 1]
        + " ms";
  }

  private static PrometheusText scrape(Lb lb) throws IOException {
    try (RawHttpClient admin = RawHttpClient.connect(lb.adminPort())) {
      return PrometheusText.parse(admin.get("/metrics").readResponse().bodyString());
    }
  }
}
