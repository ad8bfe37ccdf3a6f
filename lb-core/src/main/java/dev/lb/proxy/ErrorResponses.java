package dev.lb.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The answers the balancer makes itself: {@code {"code": N, "message": "..."}} as {@code application/json}. Bodies are
 * built once per status and shared through read-only duplicates of an unreleasable buffer.
 */
public final class ErrorResponses {
  private static final Map<Integer, ByteBuf> BODIES = new HashMap<>();
  private static final AsciiString CONTENT_TYPE = AsciiString.cached("application/json");

  static {
    body(HttpResponseStatus.BAD_REQUEST, "Bad request");
    body(HttpResponseStatus.METHOD_NOT_ALLOWED, "Method not allowed");
    body(HttpResponseStatus.REQUEST_TIMEOUT, "Request timeout");
    body(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "Payload too large");
    body(HttpResponseStatus.REQUEST_URI_TOO_LONG, "URI too long");
    body(HttpResponseStatus.TOO_MANY_REQUESTS, "Rate limit exceeded");
    body(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Request header fields too large");
    body(HttpResponseStatus.INTERNAL_SERVER_ERROR, "Internal error");
    body(HttpResponseStatus.BAD_GATEWAY, "Bad gateway");
    body(HttpResponseStatus.SERVICE_UNAVAILABLE, "No healthy backends");
    body(HttpResponseStatus.GATEWAY_TIMEOUT, "Gateway timeout");
  }

  /** Answers with a contract status and a message of their own, saying which of several causes it was. */
  public enum Variant {
    /** Every backend the request may use is at its {@code max_connections} and the queue is full. */
    QUEUE_FULL(HttpResponseStatus.SERVICE_UNAVAILABLE, "Queue full: every backend is at max_connections"),
    /** The request waited {@code proxy.queue.timeout} and no backend connection freed up. */
    QUEUE_TIMEOUT(HttpResponseStatus.SERVICE_UNAVAILABLE, "Queue timeout: no backend connection freed up in time"),
    /** No route matches the request's host and path, and there is no default upstream. */
    NO_ROUTE(HttpResponseStatus.NOT_FOUND, "No route for this host and path");

    private final HttpResponseStatus status;
    private final String message;
    private final ByteBuf body;

    Variant(HttpResponseStatus status, String message) {
      this.status = status;
      this.message = message;
      this.body = json(status, message);
    }

    public HttpResponseStatus status() {
      return status;
    }

    public String message() {
      return message;
    }
  }

  private ErrorResponses() {}

  private static void body(HttpResponseStatus status, String message) {
    BODIES.put(status.code(), json(status, message));
  }

  private static ByteBuf json(HttpResponseStatus status, String message) {
    byte[] json = ("{\"code\":" + status.code() + ",\"message\":\"" + message + "\"}")
        .getBytes(StandardCharsets.UTF_8);
    return Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(json)).asReadOnly();
  }

  /** The message the contract gives this status, e.g. {@code Gateway timeout} for 504. */
  public static String message(HttpResponseStatus status) {
    ByteBuf body = BODIES.get(status.code());
    if (body == null) {
      return status.reasonPhrase();
    }
    String json = body.toString(StandardCharsets.UTF_8);
    int start = json.indexOf("\"message\":\"") + 11;
    return json.substring(start, json.length() - 2);
  }

  /**
   * A new response for this status, ready to write.
   *
   * @param close whether the connection closes after it ({@code Connection: close} is set)
   * @param requestId the request's {@code X-Request-Id}, or null when there is none
   */
  public static FullHttpResponse create(HttpResponseStatus status, boolean close, @Nullable CharSequence requestId) {
    ByteBuf shared = BODIES.get(status.code());
    if (shared == null) {
      throw new IllegalArgumentException("no canned response for " + status);
    }
    return create(status, shared, close, requestId);
  }

  /** As {@link #create(HttpResponseStatus, boolean, CharSequence)}, with the variant's status and message. */
  public static FullHttpResponse create(Variant variant, boolean close, @Nullable CharSequence requestId) {
    return create(variant.status, variant.body, close, requestId);
  }

  private static FullHttpResponse create(
      HttpResponseStatus status, ByteBuf shared, boolean close, @Nullable CharSequence requestId) {
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, shared.duplicate());
    HttpHeaders headers = response.headers();
    headers.set(HttpHeaderNames.CONTENT_TYPE, CONTENT_TYPE);
    headers.setInt(HttpHeaderNames.CONTENT_LENGTH, shared.readableBytes());
    if (requestId != null) {
      headers.set(RequestIds.HEADER, requestId);
    }
    if (close) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    return response;
  }
}
