package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.RawResponse;
import dev.lb.it.support.TestBackend;
import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link dev.lb.server.LbServer#drainAndStop()}, the SIGTERM sequence, in process: readiness fails at once, the proxy
 * serves on through {@code drain_delay}, then the listener closes, idle keep-alive connections close, requests in
 * flight finish with {@code Connection: close} within {@code grace_period}, and what is left after it is cut.
 */
class DrainIT {
  private static final Duration WAIT = Duration.ofSeconds(5);

  private TestBackend backend;

  @BeforeEach
  void startBackend() {
    backend = TestBackend.start("b1");
  }

  @AfterEach
  void closeBackend() {
    backend.close();
  }

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

      // The drain delay: not ready, but still serving, new connections included.
      assertReadyz(lb, 503, "DRAINING");
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
