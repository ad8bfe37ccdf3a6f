package dev.lb.it.support;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpRequest;

/**
 * {@code /close} and {@code /reset}: drops the connection as soon as the request head is read, without answering.
 * A reset sets SO_LINGER to 0 first, so the peer gets a RST instead of a FIN.
 */
final class DropExchange extends Exchange {
  private final boolean reset;

  DropExchange(ChannelHandlerContext ctx, HttpRequest request, boolean reset) {
    super(ctx, request);
    this.reset = reset;
  }

  @Override
  void start() {
    if (reset) {
      ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
    }
    ctx.channel().close();
  }
}
