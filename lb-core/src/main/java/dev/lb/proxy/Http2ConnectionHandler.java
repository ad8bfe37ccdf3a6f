package dev.lb.proxy;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.timeout.IdleStateEvent;

/**
 * An HTTP/2 connection's own handling, between its frame codec and the stream multiplexer: a drain closes it
 * gracefully (the codec sends GOAWAY with the last stream it took, lets the open streams finish, then closes), and so
 * does {@code idle_timeout} passing with no stream open (the idle timer before the codec sees no bytes either way).
 */
final class Http2ConnectionHandler extends ChannelInboundHandlerAdapter {
  private final Http2FrameCodec codec;

  Http2ConnectionHandler(Http2FrameCodec codec) {
    this.codec = codec;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt == ProxyHandler.DRAIN) {
      ctx.close();
      return;
    }
    if (evt instanceof IdleStateEvent) {
      if (codec.connection().numActiveStreams() == 0) {
        ctx.close();
      }
      return;
    }
    super.userEventTriggered(ctx, evt);
  }
}
