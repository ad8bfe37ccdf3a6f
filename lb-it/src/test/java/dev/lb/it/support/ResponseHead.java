package dev.lb.it.support;

import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/**
 * The status line and headers of a response read by {@link RawHttpClient}, and how its body is delimited.
 *
 * @param contentLength the Content-Length when {@code framing} is {@link Framing#CONTENT_LENGTH}, else -1
 */
public record ResponseHead(
    String version, int status, String reason, RawHeaders headers, Framing framing, long contentLength) {

  /** How a response body is delimited (RFC 9112, section 6.3). */
  public enum Framing {
    /** No body: a 1xx, 204 or 304 response, or the answer to HEAD. */
    NONE,
    /** Content-Length bytes. */
    CONTENT_LENGTH,
    /** Chunked transfer coding. */
    CHUNKED,
    /** Everything until the server closes the connection. */
    CLOSE
  }

  public ResponseHead {
    requireNonNull(version, "version");
    requireNonNull(reason, "reason");
    requireNonNull(headers, "headers");
    requireNonNull(framing, "framing");
  }

  /** The first value of a header, or null. */
  public @Nullable String header(String name) {
    return headers.get(name);
  }

  /** Whether this is an interim (1xx) response, such as {@code 100 Continue}. */
  public boolean isInterim() {
    return status >= 100 && status < 200;
  }

  public String statusLine() {
    return version + ' ' + status + (reason.isEmpty() ? "" : " " + reason);
  }
}
