package dev.lb.it.support;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;

/**
 * {@code /ws} after the upgrade: writes every text, binary and continuation frame back as it came. Ping, pong and
 * close frames are {@link io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler}'s business; other
 * messages pass on.
 *
 * <p>Buffers: an echoed frame is written, so ownership passes to the outbound pipeline.
 */
@Sharable
final class WebSocketEcho extends ChannelInboundHandlerAdapter {

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof TextWebSocketFrame
        || msg instanceof BinaryWebSocketFrame
        || msg instanceof ContinuationWebSocketFrame) {
      ctx.writeAndFlush(msg);
      if (!ctx.channel().isWritable()) {
        // ExchangeHandler lifts this when the channel becomes writable again.
        ReadGate.of(ctx.channel()).set(ReadGate.Reason.BACKPRESSURE, true);
      }
    } else {
      ctx.fireChannelRead(msg);
    }
  }
}
