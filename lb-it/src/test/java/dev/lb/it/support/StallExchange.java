package dev.lb.it.support;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;

/** {@code /stall}: reads the request and never answers; the connection stays open until a side closes it. */
final class StallExchange extends Exchange {

  StallExchange(ChannelHandlerContext ctx, HttpRequest request) {
    super(ctx, request);
  }
}
