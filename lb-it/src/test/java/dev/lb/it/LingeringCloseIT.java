package dev.lb.it;

import static dev.lb.it.LbAssertions.assertJsonError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lb.it.support.PrometheusText;
import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.RawResponse;
import dev.lb.it.support.ScriptedBackend;
import dev.lb.it.support.ScriptedBackend.Script;
import dev.lb.it.support.TestBackend;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

/**
 * A client still sending when lb answers and closes gets the answer, then the end of the stream, not a reset that
 * destroys the answer: lb shuts its output, reads and drops what still comes, and closes once the client is done or
 * quiet (nginx's {@code lingering_close}).
 */
class LingeringCloseIT {
  private static final int MAX_BODY = 64 * 1024;
  /** Far over the limit and over the one mebibyte a kept connection may drop. */
  private static final int UPLOAD = 16 * 1024 * 1024;

  @AutoClose private final TestBackend backend = TestBackend.start("b1");


  /** Repeated: without the linger the reset wins the race often, not always. */
  @RepeatedTest(5)
  void anUploadOverTheBodyLimitGetsIts413AndThenTheEndOfTheStream() throws Exception {
    try (Lb lb = Lb.builder().backends(backend).set("proxy.max_body_size", Integer.toString(MAX_BODY)).start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      client.send("POST /sha256 HTTP/1.1\r\nHost: lb\r\nContent-Length: " + UPLOAD + "\r\n\r\n");
      Upload upload = Upload.start(client.output(), UPLOAD);

      assertJsonError(client.readResponse(), 413, "Payload too large");
      assertThat(endOfStream(client)).as("a FIN after the answer").isTrue();
      upload.stop();
    }
    assertThat(backend.requests()).as("no backend sees a refused request").isZero();
  }

  @RepeatedTest(3)
  void aBackendThatAnswersBeforeTheBodyEndedHasItsAnswerDelivered() throws Exception {
    try (ScriptedBackend early = ScriptedBackend.start(Script.create().awaitBytes()
            .write("HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nnope")
            .pause(Duration.ofSeconds(10)));
        Lb lb = Lb.builder().backend(early.url()).set("health_check.enabled", "false").start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      client.send("POST /upload HTTP/1.1\r\nHost: lb\r\nContent-Length: " + UPLOAD + "\r\n\r\n");
      Upload upload = Upload.start(client.output(), UPLOAD);

      RawResponse response = client.readResponse();
      assertThat(response.status()).as("%s", response).isEqualTo(401);
      assertThat(response.bodyString()).isEqualTo("nope");
      assertThat(response.headers().hasToken("Connection", "close")).as("%s", response).isTrue();
      assertThat(endOfStream(client)).as("a FIN after the answer").isTrue();
      upload.stop();
    }
  }

  /**
   * The linger lasts while the client sends and ends once it is quiet, even if it never closes: bytes that trickle
   * in more often than the quiet time keep the connection open past it, and after they stop, lb closes.
   */
  @Test
  void theLingerLastsWhileTheClientSendsAndEndsWhenItIsQuiet() throws Exception {
    try (Lb lb = Lb.builder().backends(backend).set("proxy.max_body_size", Integer.toString(MAX_BODY)).start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      client.send("POST /sha256 HTTP/1.1\r\nHost: lb\r\nContent-Length: " + UPLOAD + "\r\n\r\n");
      client.send(new byte[MAX_BODY + 1]);
      assertJsonError(client.readResponse(), 413, "Payload too large");
      assertThat(endOfStream(client)).as("a FIN after the answer").isTrue();

      // Quiet time is 1 s: a byte every 150 ms for 2 s keeps the connection lingering.
      long until = System.nanoTime() + Duration.ofSeconds(2).toNanos();
      while (System.nanoTime() - until < 0) {
        client.send(new byte[] {'x'});
        Thread.sleep(150);
      }
      assertThat(openConnections(lb)).as("still lingering while the client sends").isEqualTo(1);

      await("lb closes a quiet lingering connection").atMost(Duration.ofSeconds(5))
          .until(() -> openConnections(lb) == 0);
    }
  }

  /**
   * A slowloris client that is still sending when {@code request_header_timeout} cuts it reads its whole 408 (lb
   * lingers instead of closing on unread bytes, which would send a reset), and the linger is short: bytes dripping in
   * more often than the quiet time do not hold the connection for the usual five seconds.
   */
  @RepeatedTest(3)
  void aHeadTimeoutsAnswerLingersBrieflyForAClientStillSending() throws Exception {
    try (Lb lb = Lb.builder().backends(backend).set("proxy.request_header_timeout", "1s").start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      client.send("GET / HTTP/1.1\r\nHost: lb\r\nX-Slow: ");
      // A few bytes every 150 ms, before and after the 408: never the end of the head.
      Drip drip = Drip.start(client.output(), Duration.ofMillis(150));

      assertJsonError(client.readResponse(), 408, "Request timeout");
      drip.mark();
      assertThat(endOfStream(client)).as("a FIN after the answer").isTrue();
      // The head timeout (1 s) plus a short linger: well before the 5 s an ordinary linger may last.
      await("lb closes the connection soon after its 408").atMost(Duration.ofSeconds(3))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> openConnections(lb) == 0);
      drip.stop();
      assertThat(drip.sentAfter()).as("bytes the client sent while lb lingered").isPositive();
    }
    assertThat(backend.requests()).as("no backend sees a timed-out head").isZero();
  }

  /** Reads what follows the answer: true for the end of the stream, false if nothing came; a reset throws. */
  private static boolean endOfStream(RawHttpClient client) throws IOException {
    client.socket().setSoTimeout(10_000);
    return client.socket().getInputStream().read() == -1;
  }

  private static double openConnections(Lb lb) throws IOException {
    try (RawHttpClient admin = RawHttpClient.connect(lb.adminPort())) {
      return PrometheusText.parse(admin.get("/metrics").readResponse().bodyString()).value("lb_connections_active");
    }
  }

  /** Writes a few bytes every {@code interval} on its own thread until the connection fails or it is stopped. */
  private static final class Drip {
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private final AtomicLong sent = new AtomicLong();
    private volatile long mark;
    private volatile boolean stopped;

    static Drip start(OutputStream out, Duration interval) {
      Drip drip = new Drip();
      Thread t = new Thread(() -> drip.run(out, interval), "drip");
      t.setDaemon(true);
      t.start();
      return drip;
    }

    private void run(OutputStream out, Duration interval) {
      try {
        while (!stopped) {
          out.write(new byte[] {'a', 'b', 'c'});
          out.flush();
          sent.addAndGet(3);
          Thread.sleep(interval.toMillis());
        }
      } catch (IOException | InterruptedException e) {
        // lb closed the connection: expected once it stops lingering.
      }
      done.complete(null);
    }

    /** Notes how many bytes were sent so far. */
    void mark() {
      mark = sent.get();
    }

    /** Bytes sent since {@link #mark()}. */
    long sentAfter() {
      return sent.get() - mark;
    }

    void stop() throws Exception {
      stopped = true;
      done.get(15, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  /** Writes a body in 64 KiB pieces on its own thread until it is all sent, the connection fails, or stopped. */
  private static final class Upload {
    private final CompletableFuture<Long> done = new CompletableFuture<>();
    private final AtomicLong sent = new AtomicLong();
    private volatile boolean stopped;

    static Upload start(OutputStream out, long length) {
      Upload upload = new Upload();
      Thread t = new Thread(() -> upload.run(out, length), "upload");
      t.setDaemon(true);
      t.start();
      return upload;
    }

    private void run(OutputStream out, long length) {
      byte[] piece = new byte[64 * 1024];
      try {
        while (!stopped && sent.get() < length) {
          int n = (int) Math.min(piece.length, length - sent.get());
          out.write(piece, 0, n);
          sent.addAndGet(n);
        }
        out.flush();
      } catch (IOException e) {
        // lb closed the connection: the test judges what the client read, not how far the upload got.
      }
      done.complete(sent.get());
    }

    void stop() throws Exception {
      stopped = true;
      done.get(15, java.util.concurrent.TimeUnit.SECONDS);
    }
  }
}
