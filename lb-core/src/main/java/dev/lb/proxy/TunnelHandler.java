package dev.lb.proxy;

import static java.util.Objects.requireNonNull;

import dev.lb.pool.BackendCodec;
import dev.lb.pool.BackendConnection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * Relays raw bytes between a client and a backend connection after {@code 101 Switching Protocols} (WebSocket): each
 * side's reads are written to the other, flushed at the end of each read burst; a side stops reading while the other
 * cannot take more. When one side closes, the other is flushed and closed. An idle tunnel (no bytes either way for
 * {@code idle_timeout}) is closed.
 *
 * <p>Buffers read are handed to the peer's write, which releases them; anything else (the codec's last empty
 * message) is released here.
 */
public final class TunnelHandler extends ChannelInboundHandlerAdapter {
  private final Channel peer;

  private TunnelHandler(Channel peer) {
    this.peer = requireNonNull(peer, "peer");
  }

  /**
   * Turns both pipelines into a tunnel. Must run on the shared event loop, after the {@code 101} was written to the
   * client. HTTP encoders go first so that no byte is HTTP-encoded again, then the relays are added, then the
   * decoders go, handing any bytes they still hold to the relays.
   */
  static void install(Channel client, BackendConnection backend, long idleTimeoutNanos) {
    Channel server = backend.channel();
    ChannelPipeline cp = client.pipeline();
    ChannelPipeline bp = server.pipeline();
    CombinedChannelDuplexHandler<?, ?> serverCodec =
        (CombinedChannelDuplexHandler<?, ?>) cp.get(HandlerNames.SERVER_CODEC);
    BackendCodec clientCodec = (BackendCodec) bp.get(HandlerNames.CLIENT_CODEC);
    serverCodec.removeOutboundHandler();
    clientCodec.removeOutboundHandler();

    cp.addLast(HandlerNames.TUNNEL_IDLE, new IdleStateHandler(0, 0, idleTimeoutNanos, TimeUnit.NANOSECONDS));
    cp.addLast(HandlerNames.TUNNEL, new TunnelHandler(server));
    bp.addLast(HandlerNames.TUNNEL, new TunnelHandler(client));
    for (String name : new String[] {HandlerNames.GUARD, HandlerNames.TIMEOUTS, HandlerNames.RATE_LIMIT,
        HandlerNames.PROXY}) {
      if (cp.get(name) != null) {
        cp.remove(name);
      }
    }
    bp.remove(HandlerNames.BACKEND);
    client.config().setAutoRead(true);
    server.config().setAutoRead(true);
    cp.remove(serverCodec);
    bp.remove(clientCodec);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf) {
      peer.write(msg, peer.voidPromise());
      if (!peer.isWritable()) {
        ctx.channel().config().setAutoRead(false);
      }
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    peer.flush();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable()) {
      peer.config().setAutoRead(true);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (peer.isActive()) {
      peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent) {
      ctx.close();
    }
    ReferenceCountUtil.release(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
