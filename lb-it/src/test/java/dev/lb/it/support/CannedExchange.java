package dev.lb.it.support;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;

/** Answers with a small fixed response once the request, body included, has been read. */
final class CannedExchange extends Exchange {
  private final HttpResponseStatus status;
  private final String contentType;
  private final byte[] body;

  CannedExchange(
      ChannelHandlerContext ctx, HttpRequest request, HttpResponseStatus status, String contentType, byte[] body) {
    super(ctx, request);
    this.status = status;
    this.contentType = contentType;
    this.body = body;
  }

  @Override
  void requestEnded() {
    ctx.writeAndFlush(Responses.full(ctx.alloc(), request, status, contentType, body));
    responseComplete();
  }
}
