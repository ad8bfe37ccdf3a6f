package dev.lb.it.support;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * Streams a request body of {@link PseudoRandomBytes} over a raw socket, fixed length or chunked, and reads the
 * response at the same time, so an echoing server never deadlocks against it. The expected hash of what was sent is
 * {@link PseudoRandomBytes#sha256(long, long)}.
 *
 * <pre>{@code
 * Transfer t = StreamingUploader.post("/sha256", 10 << 20).chunked(true).sendTo(backend.port());
 * }</pre>
 *
 * <p>The body is written by a thread of its own, which ends before {@code sendTo} returns. If the server answers and
 * closes before reading everything, the response is still returned, with {@link Transfer#uploadFailure()} set.
 */
public final class StreamingUploader {
  private static final Duration WRITER_GRACE = Duration.ofSeconds(2);

  private String method = "POST";
  private final String target;
  private final long bytes;
  private long seed;
  private boolean chunked;
  private Throttle throttle = Throttle.NONE;
  private final Map<String, String> headers = new LinkedHashMap<>();

  private StreamingUploader(String target, long bytes) {
    this.target = requireNonNull(target, "target");
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes " + bytes + " (expected: 0 or more)");
    }
    this.bytes = bytes;
  }

  /** A POST of {@code bytes} bytes to {@code target}, fixed length, seed 0, unthrottled. */
  public static StreamingUploader post(String target, long bytes) {
    return new StreamingUploader(target, bytes);
  }

  public StreamingUploader method(String method) {
    this.method = requireNonNull(method, "method");
    return this;
  }

  public StreamingUploader seed(long seed) {
    this.seed = seed;
    return this;
  }

  /** Chunked transfer coding instead of Content-Length. */
  public StreamingUploader chunked(boolean chunked) {
    this.chunked = chunked;
    return this;
  }

  /** The pace of the upload; one chunk per step when chunked. */
  public StreamingUploader throttle(Throttle throttle) {
    this.throttle = requireNonNull(throttle, "throttle");
    return this;
  }

  /** An extra request header. */
  public StreamingUploader header(String name, String value) {
    headers.put(requireNonNull(name, "name"), requireNonNull(value, "value"));
    return this;
  }

  /** Uploads on a new connection to {@code 127.0.0.1:port}, which is closed afterwards. */
  public Transfer sendTo(int port) throws IOException {
    try (RawHttpClient client = RawHttpClient.connect(port)) {
      return sendOn(client);
    }
  }

  /**
   * Uploads on an open connection; the response body is read to its end. If the server answered without reading the
   * whole body and the writer is still stuck two seconds later, the connection is closed to free it.
   */
  public Transfer sendOn(RawHttpClient client) throws IOException {
    long start = System.nanoTime();
    long[] sent = new long[1];
    CompletableFuture<@Nullable IOException> writer = new CompletableFuture<>();
    Thread thread =
        new Thread(
            () -> {
              try {
                writeRequest(client, sent);
                writer.complete(null);
              } catch (IOException e) {
                writer.complete(e);
              } catch (RuntimeException | Error e) {
                writer.completeExceptionally(e);
              }
            },
            "uploader-" + client.localPort());
    thread.setDaemon(true);
    thread.start();
    try {
      ResponseHead head = client.readHead(false);
      while (head.isInterim()) {
        head = client.readHead(false);
      }
      BodySink body = BodySink.drain(client.body(head), Throttle.NONE);
      IOException failure = awaitWriter(client, writer);
      return new Transfer(head, body, sent[0], Duration.ofNanos(System.nanoTime() - start), failure);
    } catch (IOException | RuntimeException e) {
      // Unblock the writer, which may be stuck on a full socket.
      client.close();
      awaitQuietly(thread);
      throw e;
    }
  }

  private void writeRequest(RawHttpClient client, long[] sent) throws IOException {
    OutputStream out = client.output();
    StringBuilder head = new StringBuilder();
    head.append(method).append(' ').append(target).append(" HTTP/1.1\r\n");
    head.append("Host: 127.0.0.1:").append(client.socket().getPort()).append("\r\n");
    head.append(chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + bytes + "\r\n");
    headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
    head.append("\r\n");
    out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
    PseudoRandomBytes source = new PseudoRandomBytes(seed);
    byte[] step = new byte[throttle.bytesPerStep()];
    for (long left = bytes; left > 0; ) {
      int length = (int) Math.min(step.length, left);
      source.nextBytes(step, 0, length);
      if (chunked) {
        out.write((Integer.toHexString(length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      }
      out.write(step, 0, length);
      if (chunked) {
        out.write('\r');
        out.write('\n');
      }
      out.flush();
      left -= length;
      sent[0] += length;
      throttle.pauseStep();
    }
    if (chunked) {
      out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
    }
    out.flush();
  }

  /**
   * The writer's failure, if any. A server that answered without reading the whole body may leave the writer stuck
   * on a full socket: after a short grace the connection is closed to free it.
   */
  private static @Nullable IOException awaitWriter(
      RawHttpClient client, CompletableFuture<@Nullable IOException> writer) throws IOException {
    try {
      return writer.get(WRITER_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      client.close();
      try {
        return writer.get(client.timeout().toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException | ExecutionException again) {
        throw new IOException("upload writer did not stop", again);
      } catch (InterruptedException again) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException();
      }
    } catch (ExecutionException e) {
      throw new IOException("upload writer failed", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException();
    }
  }

  private static void awaitQuietly(Thread thread) {
    try {
      thread.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
