package dev.lb.server.admin;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.ReferenceCountUtil;

/**
 * Netty's {@link HttpObjectAggregator} with the admin body limit (64 KiB), whose 413 answers have the contract's JSON
 * shape instead of Netty's empty ones.
 *
 * <p>Buffers: as in the parent, which owns the parts it aggregates and releases the oversized message itself after
 * {@link #handleOversizedMessage}. The 413 for a request that expects {@code 100-continue} is written from here, at
 * once, because the client is waiting for it before it sends the body; any other 413 travels on as an {@link
 * OversizedRequest}, so that {@link AdminRequestHandler} answers it in order.
 */
final class AdminAggregator extends HttpObjectAggregator {
  /** Largest admin request body. */
  static final int MAX_BODY_BYTES = 64 * 1024;

  static final AdminResponse TOO_LARGE = AdminResponse.error(413, "Payload too large");

  AdminAggregator() {
    super(MAX_BODY_BYTES);
  }

  @Override
  protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
    Object response = super.newContinueResponse(start, maxContentLength, pipeline);
    if (response instanceof HttpResponse && ((HttpResponse) response).status().code() == 413) {
      ReferenceCountUtil.release(response);
      // The parent keeps the connection and skips the body, which a client told 413 does not send.
      return NettyResponses.toNetty(
          pipeline.channel().alloc(), TOO_LARGE, start.protocolVersion(), HttpUtil.isKeepAlive(start));
    }
    return response;
  }

  @Override
  protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) throws Exception {
    if (!(oversized instanceof HttpRequest)) {
      super.handleOversizedMessage(ctx, oversized);
      return;
    }
    // Same choice as the parent: once body bytes were aggregated the stream cannot be resynchronised, so close;
    // with reading paused the rest of the body would never be skipped, so close; otherwise keep the connection
    // when the client wants it, and the parent skips the rest of the body.
    boolean keepAlive =
        !(oversized instanceof FullHttpMessage)
            && ctx.channel().config().isAutoRead()
            && (HttpUtil.is100ContinueExpected(oversized) || HttpUtil.isKeepAlive(oversized));
    ctx.fireChannelRead(new OversizedRequest(oversized.protocolVersion(), keepAlive));
  }
}
