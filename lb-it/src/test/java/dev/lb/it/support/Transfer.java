package dev.lb.it.support;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * What a streaming helper moved: the response head, the body's size and SHA-256 (the body itself is kept only up to
 * {@link #KEPT_BYTES}), the request body bytes sent, and how long it all took.
 */
public final class Transfer {
  /** The most body bytes kept for {@link #body()}; the hash always covers all of it. */
  public static final int KEPT_BYTES = 1024 * 1024;

  private final ResponseHead head;
  private final long bodyBytes;
  private final String sha256;
  private final byte[] kept;
  private final long requestBytesSent;
  private final Duration elapsed;
  private final @Nullable IOException uploadFailure;

  Transfer(
      ResponseHead head,
      BodySink body,
      long requestBytesSent,
      Duration elapsed,
      @Nullable IOException uploadFailure) {
    this.head = requireNonNull(head, "head");
    this.bodyBytes = body.bytes();
    this.sha256 = body.sha256();
    this.kept = body.kept();
    this.requestBytesSent = requestBytesSent;
    this.elapsed = requireNonNull(elapsed, "elapsed");
    this.uploadFailure = uploadFailure;
  }

  public ResponseHead head() {
    return head;
  }

  public int status() {
    return head.status();
  }

  /** Length of the response body, framing removed. */
  public long bodyBytes() {
    return bodyBytes;
  }

  /** SHA-256 of the whole response body, lower-case hex. */
  public String sha256() {
    return sha256;
  }

  /** The start of the body, at most {@link #KEPT_BYTES}. */
  public byte[] body() {
    return kept.clone();
  }

  /** {@link #body()} as UTF-8, for small answers such as {@code /sha256}'s JSON. */
  public String bodyString() {
    return new String(kept, StandardCharsets.UTF_8);
  }

  /** Request body bytes written to the socket (0 for a download). */
  public long requestBytesSent() {
    return requestBytesSent;
  }

  /** From connecting (or sending, on a given connection) to the end of the response body. */
  public Duration elapsed() {
    return elapsed;
  }

  /** Why the upload stopped early (the server may answer and close before reading everything), or null. */
  public @Nullable IOException uploadFailure() {
    return uploadFailure;
  }

  @Override
  public String toString() {
    return head.statusLine() + ", " + bodyBytes + " body bytes, sha256 " + sha256 + ", sent " + requestBytesSent
        + " in " + elapsed.toMillis() + " ms" + (uploadFailure == null ? "" : ", upload failed: " + uploadFailure);
  }
}
