package dev.lb.it;

import static dev.lb.it.DirectMemory.mib;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lb.it.support.PseudoRandomBytes;
import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.RawResponse;
import dev.lb.it.support.ResponseHead;
import dev.lb.it.support.SlowReader;
import dev.lb.it.support.StreamingUploader;
import dev.lb.it.support.TestBackend;
import dev.lb.it.support.Throttle;
import dev.lb.it.support.Transfer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bodies stream through the balancer whole and unchanged in both directions, fixed length and chunked, and a slow side
 * slows the other down instead of filling the balancer's memory.
 *
 * <p>Memory is the default allocator's direct memory, which the in-process balancer's channels use (the test
 * backend's too, but it writes only while its channel is writable, so it holds little). A balancer that held a body
 * would show tens of MiB of the 100 MiB flowing; the bound is a few MiB.
 */
class StreamingIT {
  private static final long SIZE = 100L << 20;
  /** Most direct memory the transfer may add while it runs. */
  private static final long BOUND = 16L << 20;

  @AutoClose private final TestBackend backend = TestBackend.start("stream");


  private Lb startLb(int workers) throws Exception {
    return Lb.builder().workers(workers).backends(backend).start();
  }

  @ParameterizedTest(name = "workers={0}, chunked={1}")
  @CsvSource({"1,false", "1,true", "2,false", "2,true"})
  void hundredMebibyteUploadArrivesWhole(int workers, boolean chunked) throws Exception {
    try (Lb lb = startLb(workers)) {
      Transfer t = StreamingUploader.post("/sha256", SIZE).chunked(chunked).seed(7).sendTo(lb.port());

      assertThat(t.status()).as("%s", t).isEqualTo(200);
      assertThat(t.uploadFailure()).isNull();
      assertThat(t.requestBytesSent()).isEqualTo(SIZE);
      JsonNode seen = LbAssertions.json(t.bodyString());
      assertThat(seen.path("bytes").asLong()).isEqualTo(SIZE);
      assertThat(seen.path("sha256").asText()).isEqualTo(PseudoRandomBytes.sha256(SIZE, 7));
    }
    assertThat(backend.lastRequest().header("Transfer-Encoding") != null).isEqualTo(chunked);
  }

  @ParameterizedTest(name = "workers={0}, chunked={1}")
  @CsvSource({"1,false", "1,true", "2,false", "2,true"})
  void hundredMebibyteDownloadArrivesWhole(int workers, boolean chunked) throws Exception {
    try (Lb lb = startLb(workers)) {
      Transfer t = SlowReader.download(lb.port(), "/bytes?n=" + SIZE + "&chunked=" + chunked + "&seed=9");

      assertThat(t.status()).as("%s", t).isEqualTo(200);
      assertThat(t.head().framing())
          .isEqualTo(chunked ? ResponseHead.Framing.CHUNKED : ResponseHead.Framing.CONTENT_LENGTH);
      if (!chunked) {
        assertThat(t.head().contentLength()).isEqualTo(SIZE);
      }
      assertThat(t.bodyBytes()).isEqualTo(SIZE);
      assertThat(t.sha256()).isEqualTo(TestBackend.expectedSha256(SIZE, 9));
    }
  }

  @ParameterizedTest(name = "chunked={0}")
  @ValueSource(booleans = {false, true})
  void aBodyEchoedWhileItIsStillBeingSentStreamsBothWays(boolean chunked) throws Exception {
    long size = 32L << 20;
    try (Lb lb = startLb(1)) {
      // /echo answers at once and sends each part back as it comes: request and response flow at the same time.
      Transfer t = StreamingUploader.post("/echo", size).chunked(chunked).seed(13).sendTo(lb.port());

      assertThat(t.status()).as("%s", t).isEqualTo(200);
      assertThat(t.uploadFailure()).isNull();
      assertThat(t.bodyBytes()).isEqualTo(size);
      assertThat(t.sha256()).isEqualTo(PseudoRandomBytes.sha256(size, 13));
    }
  }

  @Test
  void theRestOfARequestBodyStillReachesABackendThatAnsweredEarly() throws Exception {
    try (Lb lb = startLb(1); RawHttpClient client = RawHttpClient.connect(lb.port())) {
      client.send("POST /echo HTTP/1.1\r\nHost: lb\r\nContent-Length: 10\r\n\r\n01234");
      ResponseHead head = client.readHead(false);
      assertThat(head.status()).isEqualTo(200);

      client.send("56789");

      assertThat(new String(client.body(head).readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("0123456789");
    }
  }

  /**
   * The probe itself: after 100 MiB went through (so the allocator holds chunks it may reuse), 32 MiB of held buffers
   * still show up as more than the bound, so a balancer that buffered a body would fail the checks below.
   */
  @Test
  void theMemoryProbeSeesBuffersHeldAfterATransfer() throws Exception {
    try (Lb lb = startLb(1)) {
      assertThat(SlowReader.download(lb.port(), "/bytes?n=" + SIZE).bodyBytes()).isEqualTo(SIZE);
    }
    long before = DirectMemory.used();
    List<ByteBuf> held = new ArrayList<>();
    try {
      for (int i = 0; i < 32; i++) {
        held.add(ByteBufAllocator.DEFAULT.directBuffer(1 << 20, 1 << 20).writeZero(1 << 20));
      }
      assertThat(DirectMemory.used() - before)
          .as("direct memory added by 32 MiB of held buffers")
          .isGreaterThan(BOUND);
    } finally {
      held.forEach(ByteBuf::release);
    }
  }

  @ParameterizedTest(name = "workers={0}")
  @ValueSource(ints = {1, 2})
  void aSlowReaderKeepsTheBalancersMemoryFlat(int workers) throws Exception {
    try (Lb lb = startLb(workers)) {
      // Warm up the allocator and the pools, so the baseline includes what any transfer needs.
      SlowReader.download(lb.port(), "/bytes?n=" + (8 << 20));
      long baseline = DirectMemory.used();
      Transfer t;
      long peak;
      try (DirectMemory sampler = DirectMemory.sample()) {
        t = SlowReader.download(lb.port(), "/bytes?n=" + SIZE + "&seed=3", Throttle.kibEvery(256, 8));
        sampler.close();
        peak = sampler.peak();
      }

      System.out.printf("slow reader, %d workers: %s; direct memory baseline %s, peak %s%n", workers, t,
          mib(baseline), mib(peak));
      assertThat(t.bodyBytes()).isEqualTo(SIZE);
      assertThat(t.sha256()).isEqualTo(TestBackend.expectedSha256(SIZE, 3));
      assertThat(peak - baseline)
          .as("direct memory added while 100 MiB went to a slow reader (baseline %s, peak %s)", mib(baseline),
              mib(peak))
          .isLessThan(BOUND);
    }
  }

  @ParameterizedTest(name = "workers={0}")
  @ValueSource(ints = {1, 2})
  void aBackendThatDoesNotReadStallsTheUpload(int workers) throws Exception {
    try (Lb lb = startLb(workers); RawHttpClient client = RawHttpClient.connect(lb.port())) {
      client.socket().setSendBufferSize(64 * 1024);
      // Warm up as above, on another connection.
      StreamingUploader.post("/sha256", 8 << 20).sendTo(lb.port());
      long baseline = DirectMemory.used();
      backend.pauseReading();
      AtomicLong sent = new AtomicLong();
      CompletableFuture<Void> upload = CompletableFuture.runAsync(() -> upload(client, SIZE, 5, sent),
          command -> new Thread(command, "slow-upload").start());
      long peak;
      try (DirectMemory sampler = DirectMemory.sample()) {
        awaitStalled(sent, Duration.ofSeconds(30), Duration.ofMillis(500));
        sampler.close();
        peak = sampler.peak();
      }
      long stalledAt = sent.get();
      System.out.printf("paused backend, %d workers: upload stalled at %s; direct memory baseline %s, peak %s%n",
          workers, mib(stalledAt), mib(baseline), mib(peak));

      assertThat(upload).isNotDone();
      assertThat(stalledAt).as("bytes the client could send to a backend that reads nothing").isLessThan(SIZE / 2);
      assertThat(peak - baseline)
          .as("direct memory added while the upload stalled at %s (baseline %s, peak %s)", mib(stalledAt),
              mib(baseline), mib(peak))
          .isLessThan(BOUND);

      backend.resumeReading();
      upload.get(60, TimeUnit.SECONDS);
      RawResponse response = client.readResponse(Duration.ofSeconds(30));
      assertThat(response.status()).as("%s", response).isEqualTo(200);
      JsonNode seen = LbAssertions.json(response.bodyString());
      assertThat(seen.path("bytes").asLong()).isEqualTo(SIZE);
      assertThat(seen.path("sha256").asText()).isEqualTo(PseudoRandomBytes.sha256(SIZE, 5));
    } finally {
      backend.resumeReading();
    }
  }

  /** POSTs {@code size} bytes of {@link PseudoRandomBytes} to {@code /sha256}, counting what the socket took. */
  private static void upload(RawHttpClient client, long size, long seed, AtomicLong sent) {
    try {
      OutputStream out = client.output();
      out.write(("POST /sha256 HTTP/1.1\r\nHost: lb\r\nContent-Length: " + size + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      PseudoRandomBytes source = new PseudoRandomBytes(seed);
      byte[] step = new byte[64 * 1024];
      for (long left = size; left > 0; ) {
        int n = (int) Math.min(step.length, left);
        source.nextBytes(step, 0, n);
        out.write(step, 0, n);
        left -= n;
        sent.addAndGet(n);
      }
      out.flush();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Waits until an upload that counts its bytes in {@code sent} has begun and then sent nothing for a poll. */
  static void awaitStalled(AtomicLong sent, Duration atMost, Duration poll) {
    long[] last = {-1};
    await("the upload stalls")
        .atMost(atMost)
        .pollInterval(poll)
        .until(() -> {
          long now = sent.get();
          boolean still = now > 0 && now == last[0];
          last[0] = now;
          return still;
        });
  }
}
