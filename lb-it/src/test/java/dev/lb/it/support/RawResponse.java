package dev.lb.it.support;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/** A whole response read by {@link RawHttpClient}: head, body bytes and chunked trailers. */
public final class RawResponse {
  private final ResponseHead head;
  private final byte[] body;
  private final RawHeaders trailers;

  RawResponse(ResponseHead head, byte[] body, RawHeaders trailers) {
    this.head = requireNonNull(head, "head");
    this.body = requireNonNull(body, "body");
    this.trailers = requireNonNull(trailers, "trailers");
  }

  public ResponseHead head() {
    return head;
  }

  public int status() {
    return head.status();
  }

  public String reason() {
    return head.reason();
  }

  public String version() {
    return head.version();
  }

  public RawHeaders headers() {
    return head.headers();
  }

  /** The first value of a header, or null. */
  public @Nullable String header(String name) {
    return head.headers().get(name);
  }

  public ResponseHead.Framing framing() {
    return head.framing();
  }

  /** The body, decoded from its framing (chunk sizes removed). */
  public byte[] body() {
    return body.clone();
  }

  public String bodyString() {
    return new String(body, StandardCharsets.UTF_8);
  }

  /** Trailer fields of a chunked body; empty otherwise. */
  public RawHeaders trailers() {
    return trailers;
  }

  @Override
  public String toString() {
    String text = bodyString();
    return head.statusLine() + "\n" + head.headers() + "\n" + (text.length() > 200 ? text.substring(0, 200) + "..." : text);
  }
}
