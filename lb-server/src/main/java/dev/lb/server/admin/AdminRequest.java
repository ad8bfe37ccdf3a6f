package dev.lb.server.admin;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.ReadOnlyHttpHeaders;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One admin request as a handler sees it: immutable, and holding no Netty buffer (the body is copied out of the
 * aggregated request, which the listener releases before the handler runs), so handlers may keep it or pass it to
 * another thread.
 *
 * <p>Tests of handlers build one with {@link #builder(HttpMethod, String)}.
 */
public final class AdminRequest {
  private static final byte[] EMPTY = new byte[0];

  private final HttpMethod method;
  private final String path;
  private final Map<String, String> pathParams;
  private final Map<String, List<String>> queryParams;
  private final HttpHeaders headers;
  private final byte[] body;
  private final @Nullable SocketAddress remoteAddress;

  private AdminRequest(Builder b, Map<String, String> pathParams) {
    this.method = b.method;
    this.path = b.path;
    this.pathParams = pathParams;
    this.queryParams = freeze(b.queryParams);
    this.headers = b.headers;
    this.body = b.body;
    this.remoteAddress = b.remoteAddress;
  }

  private AdminRequest(AdminRequest base, Map<String, String> pathParams) {
    this.method = base.method;
    this.path = base.path;
    this.pathParams = pathParams;
    this.queryParams = base.queryParams;
    this.headers = base.headers;
    this.body = base.body;
    this.remoteAddress = base.remoteAddress;
  }

  /** A builder for a request with the given method and path (the path as sent, without the query). */
  public static Builder builder(HttpMethod method, String path) {
    return new Builder(method, path);
  }

  public HttpMethod method() {
    return method;
  }

  /** The path as sent, still percent-encoded, without the query string. */
  public String path() {
    return path;
  }

  /** The route's {@code {name}} segment, percent-decoded; empty for exact routes. */
  public Map<String, String> pathParams() {
    return pathParams;
  }

  /**
   * The decoded value of the route's {@code {name}} segment.
   *
   * @throws IllegalArgumentException if the route has no parameter of that name (a programming error)
   */
  public String pathParam(String name) {
    String value = pathParams.get(name);
    if (value == null) {
      throw new IllegalArgumentException("no path parameter named " + name + " in " + path);
    }
    return value;
  }

  /** Query parameters, decoded ({@code +} is a space here), in the order sent. */
  public Map<String, List<String>> queryParams() {
    return queryParams;
  }

  /** The first value of a query parameter, or null when absent. */
  public @Nullable String queryParam(String name) {
    List<String> values = queryParams.get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  /** The request headers; read-only, names compared case-insensitively. */
  public HttpHeaders headers() {
    return headers;
  }

  /** A copy of the body (at most 64 KiB). */
  public byte[] body() {
    return body.clone();
  }

  public int bodyLength() {
    return body.length;
  }

  /** The body decoded as UTF-8. */
  public String bodyText() {
    return new String(body, StandardCharsets.UTF_8);
  }

  /**
   * The body parsed as one JSON document.
   *
   * @throws AdminException 400 with the error shape when the body is empty, is not JSON, has duplicate keys or
   *     trailing content
   */
  public JsonNode jsonBody() {
    JsonNode node;
    try {
      node = body.length == 0 ? null : AdminJson.MAPPER.readTree(body);
    } catch (JsonProcessingException e) {
      throw AdminException.badRequest("Malformed JSON" + where(e.getLocation()));
    } catch (IOException e) {
      throw AdminException.badRequest("Malformed JSON");
    }
    // Jackson reads a body of nothing but white space as a missing node rather than failing.
    if (node == null || node.isMissingNode()) {
      throw AdminException.badRequest("Request body must be a JSON document");
    }
    return node;
  }

  /** The peer, normally an {@link java.net.InetSocketAddress}; null only if the connection is already gone. */
  public @Nullable SocketAddress remoteAddress() {
    return remoteAddress;
  }

  /** This request with the route's decoded path parameter added. */
  AdminRequest withPathParam(String name, String value) {
    Map<String, String> params = new LinkedHashMap<>(pathParams);
    params.put(name, value);
    return new AdminRequest(this, Collections.unmodifiableMap(params));
  }

  @Override
  public String toString() {
    return "AdminRequest[" + method + " " + path + "]";
  }

  private static String where(@Nullable JsonLocation location) {
    if (location == null || location.getLineNr() < 0) {
      return "";
    }
    return " at line " + location.getLineNr() + ", column " + location.getColumnNr();
  }

  private static Map<String, List<String>> freeze(Map<String, List<String>> params) {
    Map<String, List<String>> copy = new LinkedHashMap<>();
    params.forEach((k, v) -> copy.put(k, List.copyOf(v)));
    return Collections.unmodifiableMap(copy);
  }

  /** Builds an {@link AdminRequest}; the listener uses it too. */
  public static final class Builder {
    private final HttpMethod method;
    private final String path;
    private final Map<String, String> pathParams = new LinkedHashMap<>();
    private final Map<String, List<String>> queryParams = new LinkedHashMap<>();
    private HttpHeaders headers = new ReadOnlyHttpHeaders(false);
    private byte[] body = EMPTY;
    private @Nullable SocketAddress remoteAddress;

    private Builder(HttpMethod method, String path) {
      this.method = requireNonNull(method, "method");
      this.path = requireNonNull(path, "path");
    }

    /** Adds a decoded path parameter (for tests of handlers; the router sets the real one). */
    public Builder pathParam(String name, String value) {
      pathParams.put(requireNonNull(name, "name"), requireNonNull(value, "value"));
      return this;
    }

    /** Adds one value of a decoded query parameter. */
    public Builder queryParam(String name, String value) {
      queryParams.computeIfAbsent(requireNonNull(name, "name"), k -> new ArrayList<>())
          .add(requireNonNull(value, "value"));
      return this;
    }

    /** Adds all decoded query parameters. */
    public Builder queryParams(Map<String, List<String>> params) {
      params.forEach((name, values) -> values.forEach(v -> queryParam(name, v)));
      return this;
    }

    /** Copies the given headers; the request keeps a read-only copy. */
    public Builder headers(HttpHeaders source) {
      List<CharSequence> pairs = new ArrayList<>(source.size() * 2);
      for (Map.Entry<String, String> e : source) {
        pairs.add(e.getKey());
        pairs.add(e.getValue());
      }
      // The codec has validated these already.
      this.headers = new ReadOnlyHttpHeaders(false, pairs.toArray(new CharSequence[0]));
      return this;
    }

    /** The body; the array is copied. */
    public Builder body(byte[] bytes) {
      this.body = bytes.length == 0 ? EMPTY : bytes.clone();
      return this;
    }

    /** Takes the array as the body without copying: for the listener, which made it and drops it. */
    Builder ownedBody(byte[] bytes) {
      this.body = bytes;
      return this;
    }

    /** The body as UTF-8 text. */
    public Builder body(String text) {
      this.body = text.getBytes(StandardCharsets.UTF_8);
      return this;
    }

    public Builder remoteAddress(@Nullable SocketAddress address) {
      this.remoteAddress = address;
      return this;
    }

    public AdminRequest build() {
      return new AdminRequest(this, Collections.unmodifiableMap(new LinkedHashMap<>(pathParams)));
    }
  }
}
