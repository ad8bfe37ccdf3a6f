package dev.lb.server.admin;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * An admin answer: status, body bytes, content type and a few extra headers. Immutable and free of Netty buffers, so
 * it may be built on any thread and shared (canned answers are built once). The admin listener adds
 * {@code Content-Length} and the connection headers when it writes it.
 */
public final class AdminResponse {
  /** The content type of every JSON answer. */
  public static final String APPLICATION_JSON = "application/json";

  private static final byte[] EMPTY = new byte[0];

  private final int status;
  private final byte[] body;
  private final @Nullable String contentType;
  private final Map<String, String> headers;

  private AdminResponse(int status, byte[] body, @Nullable String contentType, Map<String, String> headers) {
    if (status < 100 || status > 599) {
      throw new IllegalArgumentException("status: " + status + " (expected: 100 to 599)");
    }
    this.status = status;
    this.body = body;
    this.contentType = contentType;
    this.headers = headers;
  }

  /**
   * {@code body} written as JSON by Jackson, with snake_case property names (a record component {@code ratePerSec}
   * becomes {@code rate_per_sec}; map keys are kept as they are).
   *
   * @throws IllegalArgumentException if Jackson cannot write {@code body}
   */
  public static AdminResponse json(int status, Object body) {
    requireNonNull(body, "body");
    try {
      return new AdminResponse(status, AdminJson.MAPPER.writeValueAsBytes(body), APPLICATION_JSON, Map.of());
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot write " + body.getClass().getName() + " as JSON", e);
    }
  }

  /** A body that already is JSON text; it is sent as it is, not checked. */
  public static AdminResponse json(int status, String rawJson) {
    requireNonNull(rawJson, "rawJson");
    return new AdminResponse(status, rawJson.getBytes(StandardCharsets.UTF_8), APPLICATION_JSON, Map.of());
  }

  /** Any text, e.g. Prometheus' {@code text/plain; version=0.0.4; charset=utf-8}; encoded as UTF-8. */
  public static AdminResponse text(int status, String contentType, String body) {
    checkHeader(HttpHeaderNames.CONTENT_TYPE.toString(), contentType);
    requireNonNull(body, "body");
    return new AdminResponse(status, body.getBytes(StandardCharsets.UTF_8), contentType, Map.of());
  }

  /** 204 with no body and no content type. */
  public static AdminResponse noContent() {
    return new AdminResponse(204, EMPTY, null, Map.of());
  }

  /** The contract's error shape: {@code {"code":N,"message":"..."}}. */
  public static AdminResponse error(int status, String message) {
    requireNonNull(message, "message");
    ObjectNode node = AdminJson.MAPPER.createObjectNode();
    node.put("code", status);
    node.put("message", message);
    return json(status, node);
  }

  /** A copy with one more header (replacing one of the same name, compared case-insensitively). */
  public AdminResponse withHeader(String name, String value) {
    checkHeader(name, value);
    Map<String, String> copy = new LinkedHashMap<>();
    headers.forEach((k, v) -> {
      if (!k.equalsIgnoreCase(name)) {
        copy.put(k, v);
      }
    });
    copy.put(name, value);
    return new AdminResponse(status, body, contentType, Collections.unmodifiableMap(copy));
  }

  public int status() {
    return status;
  }

  /** A copy of the body bytes. */
  public byte[] body() {
    return body.clone();
  }

  /** The body decoded as UTF-8. */
  public String bodyText() {
    return new String(body, StandardCharsets.UTF_8);
  }

  /** Null only for a response without body, such as {@link #noContent()}. */
  public @Nullable String contentType() {
    return contentType;
  }

  /** Extra headers, in the order they were added. */
  public Map<String, String> headers() {
    return headers;
  }

  /**
   * Checks a header as Netty will when writing it, so that a bad one fails in the handler (500) instead of on the
   * event loop after the handler is done.
   */
  private static void checkHeader(String name, String value) {
    requireNonNull(name, "name");
    requireNonNull(value, "value");
    new DefaultHttpHeaders().set(name, value);
  }

  /** The body itself, not a copy: for the writer, which only reads it. */
  byte[] bodyBytes() {
    return body;
  }

  @Override
  public String toString() {
    return "AdminResponse[" + status + ", " + contentType + ", " + body.length + " bytes]";
  }
}
