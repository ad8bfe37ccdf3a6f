package dev.lb.it.support;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

/** Response heads and small whole responses for the backend's routes. */
final class Responses {
  static final String TEXT = "text/plain; charset=utf-8";
  static final String JSON = "application/json";

  private Responses() {}

  /**
   * A response head. {@code contentLength} below zero means a chunked body. The keep-alive header follows the
   * request; {@link io.netty.handler.codec.http.HttpServerKeepAliveHandler} closes the connection when it must.
   */
  static HttpResponse head(HttpRequest request, HttpResponseStatus status, String contentType, long contentLength) {
    HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    if (contentLength >= 0) {
      HttpUtil.setContentLength(response, contentLength);
    } else {
      response.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    HttpUtil.setKeepAlive(response, HttpUtil.isKeepAlive(request));
    return response;
  }

  /** A whole response with {@code body}, or with none but the right Content-Length for a HEAD request. */
  static FullHttpResponse full(
      ByteBufAllocator alloc, HttpRequest request, HttpResponseStatus status, String contentType, byte[] body) {
    boolean noBody =
        HttpMethod.HEAD.equals(request.method())
            || status.code() == 204
            || status.code() == 304;
    ByteBuf content = noBody ? alloc.buffer(0) : alloc.buffer(body.length).writeBytes(body);
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    if (status.code() != 204) {
      HttpUtil.setContentLength(response, noBody && status.code() == 304 ? 0 : body.length);
    }
    HttpUtil.setKeepAlive(response, HttpUtil.isKeepAlive(request));
    return response;
  }

  /** A whole text response that announces the connection will close after it. */
  static FullHttpResponse closing(ByteBufAllocator alloc, HttpResponseStatus status, byte[] body) {
    FullHttpResponse response =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, alloc.buffer(body.length).writeBytes(body));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, TEXT);
    HttpUtil.setContentLength(response, body.length);
    HttpUtil.setKeepAlive(response, false);
    return response;
  }
}
