package dev.lb.http2;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.List;

/**
 * A peer that reads nothing: what is written stays here, never flushed, its writes never done, until the connection
 * closes and they fail, as a socket's would.
 */
final class StallingOutbound extends ChannelOutboundHandlerAdapter {
  private final List<Object> held = new ArrayList<>();
  private final List<ChannelPromise> promises = new ArrayList<>();

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    held.add(msg);
    promises.add(promise);
  }

  @Override
  public void flush(ChannelHandlerContext ctx) {
    // Nothing leaves.
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    failAll();
    ctx.close(promise);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    failAll();
  }

  private void failAll() {
    held.forEach(ReferenceCountUtil::release);
    held.clear();
    List<ChannelPromise> failing = new ArrayList<>(promises);
    promises.clear();
    failing.forEach(p -> p.tryFailure(new ClosedChannelException()));
  }
}
