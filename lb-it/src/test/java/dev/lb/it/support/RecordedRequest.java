package dev.lb.it.support;

import static java.util.Objects.requireNonNull;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.ReadOnlyHttpHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The head of a request as a {@link TestBackend} received it: method, request target, protocol version, headers
 * (a read-only copy; names compare case-insensitively), and when it was decoded ({@link System#nanoTime()} of the
 * test JVM, so comparable with the test's own clock readings).
 */
public record RecordedRequest(String method, String uri, String protocol, HttpHeaders headers, long receivedNanos) {

  public RecordedRequest {
    requireNonNull(method, "method");
    requireNonNull(uri, "uri");
    requireNonNull(protocol, "protocol");
    requireNonNull(headers, "headers");
  }

  static RecordedRequest of(HttpRequest request) {
    return new RecordedRequest(
        request.method().name(), request.uri(), request.protocolVersion().text(), copyOf(request.headers()),
        System.nanoTime());
  }

  /** A read-only copy of {@code headers}. */
  static HttpHeaders copyOf(HttpHeaders headers) {
    List<CharSequence> flat = new ArrayList<>(headers.size() * 2);
    for (Map.Entry<String, String> e : headers) {
      flat.add(e.getKey());
      flat.add(e.getValue());
    }
    return new ReadOnlyHttpHeaders(false, flat.toArray(new CharSequence[0]));
  }

  /** The request path, without the query. */
  public String path() {
    int q = uri.indexOf('?');
    return q < 0 ? uri : uri.substring(0, q);
  }

  /** The first value of a header, or null. */
  public @Nullable String header(String name) {
    return headers.get(name);
  }

  /** The request line as sent, for example {@code GET /x HTTP/1.1}. */
  public String requestLine() {
    return method + ' ' + uri + ' ' + protocol;
  }
}
