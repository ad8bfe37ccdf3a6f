package dev.lb.it.support;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * Counts and records every well-formed request head as it is decoded, and counts the requests whose body ended
 * well-formed too (recording its trailer fields), before any other handler (the WebSocket
 * handshake included) acts on it. Passes every message on unchanged; it owns none of them.
 */
@Sharable
final class RequestRecorder extends ChannelInboundHandlerAdapter {
  private final BackendState state;

  RequestRecorder(BackendState state) {
    this.state = state;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest request && request.decoderResult().isSuccess()) {
      state.record(RecordedRequest.of(request));
    }
    if (msg instanceof LastHttpContent last && last.decoderResult().isSuccess()) {
      state.requestCompleted(RecordedRequest.copyOf(last.trailingHeaders()));
    }
    ctx.fireChannelRead(msg);
  }
}
