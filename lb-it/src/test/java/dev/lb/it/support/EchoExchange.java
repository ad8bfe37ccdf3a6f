package dev.lb.it.support;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * {@code /echo}: sends the request body back as it arrives, with the request's Content-Length when it had one and
 * chunked otherwise. Nothing is aggregated: each body part read is written straight back, and {@link ExchangeHandler}
 * stops reading while the channel is not writable.
 *
 * <p>Buffers: each request part is written as a response part, so ownership passes to the outbound pipeline.
 */
final class EchoExchange extends Exchange {

  EchoExchange(ChannelHandlerContext ctx, HttpRequest request) {
    super(ctx, request);
  }

  @Override
  void start() {
    long length;
    if (HttpUtil.isTransferEncodingChunked(request)) {
      length = -1;
    } else {
      length = Math.max(0, HttpUtil.getContentLength(request, 0L));
    }
    ctx.writeAndFlush(Responses.head(request, HttpResponseStatus.OK, "application/octet-stream", length));
  }

  @Override
  void content(HttpContent content) {
    if (isResponseComplete()) {
      content.release();
      return;
    }
    boolean last = content instanceof LastHttpContent;
    ctx.writeAndFlush(content);
    if (last) {
      responseComplete();
    }
  }
}
