package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lb.it.support.Ports;
import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.RawResponse;
import dev.lb.it.support.TestBackend;
import dev.lb.server.testing.LogCapture;
import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link dev.lb.server.LbServer#drainAndStop()}, the SIGTERM sequence, in process: readiness fails at once, the proxy
 * serves on through {@code drain_delay}, then the listener closes, idle keep-alive connections close, requests in
 * flight finish with {@code Connection: close} within {@code grace_period}, and what is left after it is cut.
 */
class DrainIT {
  private static final Duration WAIT = Duration.ofSeconds(5);

  /** Load threads, each with its own keep-alive connection, and the pause each takes between requests. */
  private static final int LOAD_THREADS = 16;
  private static final Duration LOAD_PAUSE = Duration.ofMillis(25);

  @AutoClose private final TestBackend backend = TestBackend.start("b1");

  @TempDir Path dir;


  @Test
  void inFlightRequestsFinishAndEverythingElseStopsInOrder() throws Exception {
    try (Lb lb = Lb.builder().backends(backend)
        .set("shutdown.drain_delay", "1s").set("shutdown.grace_period", "10s").start();
        RawHttpClient idle = RawHttpClient.connect(lb.port());
        RawHttpClient inFlight = RawHttpClient.connect(lb.port())) {
      assertReadyz(lb, 200, "READY");
      assertThat(idle.get("/").readResponse().status()).isEqualTo(200);
      inFlight.get("/slow?ms=2000");
      await("the slow request reaches the backend").atMost(WAIT).until(() -> backend.requests() == 2);

      CompletableFuture<Duration> drained = drainOnAnotherThread(lb);

      // The drain delay: not ready, but still serving, new connections included. The drain runs on its own thread,
      // so readiness is awaited rather than read once: the thread may not have begun when the first probe lands.
      await("readiness fails once the drain begins").atMost(WAIT)
          .untilAsserted(() -> assertReadyz(lb, 503, "DRAINING"));
      try (RawHttpClient late = RawHttpClient.connect(lb.port())) {
        RawResponse response = late.get("/").readResponse();
        assertThat(response.status()).as("served during drain_delay: %s", response).isEqualTo(200);
        assertThat(drained).as("the drain waits for the request in flight").isNotDone();

        // After the delay: the listener is closed and idle connections are closed by the drain.
        await("the listener closes").atMost(WAIT).until(() -> connectionRefused(lb.port()));
        assertThat(idle.isClosedByPeer(WAIT)).as("idle keep-alive connection closed by the drain").isTrue();
        assertThat(late.isClosedByPeer(WAIT)).as("connection idle since its response closed by the drain").isTrue();
      }

      RawResponse slow = inFlight.readResponse(Duration.ofSeconds(10));
      assertThat(slow.status()).as("%s", slow).isEqualTo(200);
      assertThat(slow.bodyString()).isEqualTo("b1");
      assertThat(slow.headers().hasToken("Connection", "close")).as("%s", slow).isTrue();
      assertThat(inFlight.isClosedByPeer(WAIT)).isTrue();

      Duration took = drained.get(15, TimeUnit.SECONDS);
      assertThat(took).as("drainAndStop with nothing left in flight").isLessThan(Duration.ofSeconds(8));
    }
  }

  @Test
  void aRequestStillInFlightWhenTheGracePeriodEndsIsCut() throws Exception {
    try (Lb lb = Lb.builder().backends(backend)
        .set("shutdown.drain_delay", "0s").set("shutdown.grace_period", "1s").start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      client.get("/stall");
      await("the request reaches the backend").atMost(WAIT).until(() -> backend.requests() == 1);

      Duration took = drainOnAnotherThread(lb).get(15, TimeUnit.SECONDS);

      assertThat(took).as("drainAndStop with a 1s grace period").isLessThan(WAIT);
      assertThatThrownBy(() -> client.readResponse(Duration.ofSeconds(10)))
          .as("the stalled request's connection is cut, not answered")
          .isInstanceOfAny(EOFException.class, SocketException.class);
    }
  }

  @Test
  void aSecondStopSaysItClosesTheConnectionsNowAndDoes() throws Exception {
    try (Lb lb = Lb.builder().backends(backend)
        .set("shutdown.drain_delay", "0s").set("shutdown.grace_period", "60s").start();
        RawHttpClient client = RawHttpClient.connect(lb.port());
        LogCapture log = LogCapture.of(dev.lb.server.LbServer.class, org.apache.logging.log4j.Level.INFO)) {
      client.get("/stall");
      await("the request reaches the backend").atMost(WAIT).until(() -> backend.requests() == 1);
      CompletableFuture<Duration> first = drainOnAnotherThread(lb);
      await("the drain waits for the stalled request").atMost(WAIT)
          .until(() -> messages(log).stream().anyMatch(m -> m.startsWith("draining:")));

      lb.server().drainAndStop();

      assertThat(first.get(15, TimeUnit.SECONDS)).as("the first stop, hurried").isLessThan(Duration.ofSeconds(30));
      assertThat(messages(log)).contains("second stop signal: closing 1 connection(s) now instead of waiting for them")
          .noneMatch(m -> m.startsWith("grace period over"));
      assertThatThrownBy(() -> client.readResponse(Duration.ofSeconds(10)))
          .isInstanceOfAny(EOFException.class, SocketException.class);
    }
  }

  @Test
  void theStoppedLineIsLoggedBeforeAwaitStoppedReturns() throws Exception {
    // The jar's main thread exits the process (and stops logging) as soon as awaitStopped returns.
    try (Lb lb = Lb.builder().backends(backend).set("shutdown.drain_delay", "0s").start();
        LogCapture log = LogCapture.of(dev.lb.server.LbServer.class, org.apache.logging.log4j.Level.INFO)) {
      CompletableFuture<Duration> drain = drainOnAnotherThread(lb);
      lb.server().awaitStopped();
      assertThat(messages(log)).contains("stopped");
      drain.get(15, TimeUnit.SECONDS);
    }
  }

  private static List<String> messages(LogCapture log) {
    return log.events().stream().map(e -> e.getMessage().getFormattedMessage()).toList();
  }

  @Test
  void withNothingInFlightTheDrainTakesTheDelayAndNoMore() throws Exception {
    try (Lb lb = Lb.builder().backends(backend)
        .set("shutdown.drain_delay", "500ms").set("shutdown.grace_period", "30s").start();
        RawHttpClient idle = RawHttpClient.connect(lb.port())) {
      assertThat(idle.get("/").readResponse().status()).isEqualTo(200);

      Duration took = drainOnAnotherThread(lb).get(15, TimeUnit.SECONDS);

      assertThat(took).isBetween(Duration.ofMillis(450), Duration.ofSeconds(10));
      assertThat(idle.isClosedByPeer(WAIT)).isTrue();
      assertThat(connectionRefused(lb.port())).isTrue();
    }
  }

  /**
   * The real thing: {@code java -jar lb.jar serve} under a steady load of a few hundred requests a second from
   * {@value #LOAD_THREADS} keep-alive connections, a SIGTERM in the middle of it, and not one request sent before the
   * signal may fail. Two long requests are deterministically in flight at the signal; with {@code drain_delay: 0s}
   * the listener closes at once, so the drain itself, not the delay, has to carry them and the load's own requests
   * in flight to their end.
   */
  @Test
  void aSigtermUnderSteadyLoadFailsNoRequestSentBeforeIt() throws Exception {
    assumeTrue(ProcessHandle.current().supportsNormalTermination(), "SIGTERM through Process.destroy()");
    int port = Ports.freePort();
    int adminPort = Ports.freePort();
    Path config = Files.writeString(dir.resolve("lb.yaml"), "listen: { host: 127.0.0.1, port: " + port
        + ", workers: 2 }\n"
        + "admin: { host: 127.0.0.1, port: " + adminPort + " }\n"
        + "backends:\n  - url: " + backend.url() + "\n"
        + "health_check: { enabled: false }\n"
        + "logging: { access_log: false }\n"
        + "shutdown: { drain_delay: 0s, grace_period: 20s }\n");
    try (JarProcess lb = JarProcess.start(dir, "serve", "-c", config.toString())) {
      JarIT.awaitStatus(lb, adminPort, "/readyz", 200);
      List<Load> load = new ArrayList<>();
      for (int i = 0; i < LOAD_THREADS; i++) {
        load.add(new Load(port, i));
      }
      try (RawHttpClient long1 = RawHttpClient.connect(port); RawHttpClient long2 = RawHttpClient.connect(port)) {
        await("load flowing").atMost(Duration.ofSeconds(30))
            .until(() -> load.stream().mapToLong(Load::answered).sum() >= 600);
        long1.get("/slow?ms=2000");
        long2.send("POST /slow?ms=1500 HTTP/1.1\r\nHost: lb\r\nContent-Length: 5\r\n\r\nhello");
        await("the long requests reach the backend").atMost(WAIT)
            .until(() -> backend.recordedRequests().stream()
                .filter(r -> r.uri().equals("/slow?ms=2000") || r.uri().equals("/slow?ms=1500")).count() == 2);

        long signal = System.nanoTime();
        lb.terminate();

        assertThat(lb.waitFor(Duration.ofSeconds(30))).as("exit code after SIGTERM; %s", lb).isZero();
        for (Load l : load) {
          l.stop();
        }
        for (RawHttpClient inFlight : List.of(long1, long2)) {
          RawResponse response = inFlight.readResponse(Duration.ofSeconds(5));
          assertThat(response.status()).as("request in flight at SIGTERM: %s", response).isEqualTo(200);
          assertThat(response.bodyString()).isEqualTo("b1");
          assertThat(response.headers().hasToken("Connection", "close")).as("%s", response).isTrue();
        }

        List<Outcome> all = new ArrayList<>();
        load.forEach(l -> all.addAll(l.outcomes));
        List<Outcome> sentBefore = all.stream().filter(o -> o.sent - signal < 0).toList();
        List<Outcome> failedBefore = sentBefore.stream().filter(o -> !o.ok()).toList();
        long answeredAfter = sentBefore.stream().filter(o -> o.ok() && o.done - signal >= 0).count();
        long closedAfter = sentBefore.stream().filter(o -> o.ok() && o.close).count();
        double seconds = (signal - all.stream().mapToLong(o -> o.sent).min().orElse(signal)) / 1e9;
        System.out.printf("drain under load: %d requests sent before SIGTERM in %.1f s (%.0f/s), %d answered after"
            + " it (%d with Connection: close), %d failed; %d sent after it%n", sentBefore.size(), seconds,
            sentBefore.size() / seconds, answeredAfter, closedAfter, failedBefore.size(),
            all.size() - sentBefore.size());
        assertThat(failedBefore).as("requests sent before SIGTERM that failed").isEmpty();
        assertThat(sentBefore.size()).as("requests sent before SIGTERM").isGreaterThanOrEqualTo(600);
        lb.assertNoLeaks();
      } finally {
        for (Load l : load) {
          l.stop();
        }
      }
    }
  }

  /** What happened to one request of the load. */
  private record Outcome(long sent, long done, int status, String body, boolean close, String error) {
    boolean ok() {
      return status == 200 && "b1".equals(body);
    }
  }

  /**
   * One load thread: a keep-alive connection, a request every {@link #LOAD_PAUSE} (every fourth one slow at the
   * backend), a new connection after {@code Connection: close} or a failure, until stopped or refused.
   */
  private static final class Load {
    private final ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
    private final int port;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long answered;

    Load(int port, int id) {
      this.port = port;
      this.thread = new Thread(this::run, "load-" + id);
      thread.setDaemon(true);
      thread.start();
    }

    long answered() {
      return answered;
    }

    private void run() {
      RawHttpClient client = null;
      for (long n = 0; running; n++) {
        try {
          if (client == null) {
            client = RawHttpClient.connect(port);
          }
        } catch (IOException e) {
          return;   // refused: the listener is closed
        }
        long sent = System.nanoTime();
        try {
          client.get(n % 4 == 3 ? "/slow?ms=100" : "/");
          RawResponse response = client.readResponse(Duration.ofSeconds(10));
          boolean close = response.headers().hasToken("Connection", "close");
          outcomes.add(new Outcome(sent, System.nanoTime(), response.status(), response.bodyString(), close, null));
          answered++;
          if (close) {
            client.close();
            client = null;
          }
        } catch (IOException e) {
          outcomes.add(new Outcome(sent, System.nanoTime(), 0, null, false, e.toString()));
          closeQuietly(client);
          client = null;
        }
        try {
          Thread.sleep(LOAD_PAUSE.toMillis());
        } catch (InterruptedException e) {
          break;
        }
      }
      closeQuietly(client);
    }

    void stop() throws InterruptedException {
      running = false;
      thread.join(20_000);
    }

    private static void closeQuietly(RawHttpClient client) {
      if (client != null) {
        try {
          client.close();
        } catch (IOException e) {
          // Going away anyway.
        }
      }
    }
  }

  private static CompletableFuture<Duration> drainOnAnotherThread(Lb lb) {
    CompletableFuture<Duration> done = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      long start = System.nanoTime();
      try {
        lb.server().drainAndStop();
        done.complete(Duration.ofNanos(System.nanoTime() - start));
      } catch (Throwable e) {
        done.completeExceptionally(e);
      }
    }, "drain");
    t.setDaemon(true);
    t.start();
    return done;
  }

  private static void assertReadyz(Lb lb, int status, String state) throws IOException {
    try (RawHttpClient admin = RawHttpClient.connect(lb.adminPort())) {
      RawResponse response = admin.get("/readyz").readResponse();
      assertThat(response.status()).as("%s", response).isEqualTo(status);
      assertThat(LbAssertions.json(response.bodyString()).path("status").asText()).isEqualTo(state);
    }
  }

  private static boolean connectionRefused(int port) throws IOException {
    try (RawHttpClient probe = RawHttpClient.connect(port)) {
      return false;
    } catch (ConnectException e) {
      return true;
    }
  }
}
