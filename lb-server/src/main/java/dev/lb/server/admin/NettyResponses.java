package dev.lb.server.admin;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

/** Turns an {@link AdminResponse} into a Netty response. */
final class NettyResponses {
  private NettyResponses() {}

  /**
   * A new response with the body copied into a buffer from {@code alloc}; the caller owns it until it writes it.
   * Content-Length is set except on 204, which must not carry one; the codec drops the body of an answer to HEAD but
   * keeps the length, as HEAD requires.
   */
  static FullHttpResponse toNetty(
      ByteBufAllocator alloc, AdminResponse response, HttpVersion version, boolean keepAlive) {
    byte[] body = response.bodyBytes();
    ByteBuf content = body.length == 0 ? Unpooled.EMPTY_BUFFER : alloc.buffer(body.length).writeBytes(body);
    FullHttpResponse out =
        new DefaultFullHttpResponse(version, HttpResponseStatus.valueOf(response.status()), content);
    HttpHeaders headers = out.headers();
    response.headers().forEach(headers::set);
    String contentType = response.contentType();
    if (contentType != null) {
      headers.set(HttpHeaderNames.CONTENT_TYPE, contentType);
    }
    if (response.status() != 204) {
      HttpUtil.setContentLength(out, body.length);
    }
    HttpUtil.setKeepAlive(out, keepAlive);
    return out;
  }
}
