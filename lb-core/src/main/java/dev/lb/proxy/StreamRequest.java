package dev.lb.proxy;

import dev.lb.pool.DecodedResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A request that arrived on an HTTP/2 stream, as lb's request path takes it: an HTTP/1.1 request head whose
 * {@code Host} came from {@code :authority}, framed by {@code Content-Length} or chunked. Its response is wanted
 * decoded ({@link DecodedResponse}), to be written back as HEADERS and DATA frames.
 */
final class StreamRequest extends DefaultHttpRequest implements DecodedResponse {
  StreamRequest(HttpMethod method, String uri, HttpHeaders headers) {
    super(HttpVersion.HTTP_1_1, method, uri, headers);
  }
}
