package dev.lb.server.admin;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jspecify.annotations.Nullable;

/**
 * The admin listener's last handler: turns each aggregated request into an {@link AdminRequest}, hands it to the
 * {@link AdminDispatcher}, and writes the answers back in request order. One instance per connection.
 *
 * <p>Buffers: it owns every {@link FullHttpRequest} it reads and releases it at once, after copying the body out, so
 * no buffer outlives {@code channelRead} and handlers never see one. Answers are new {@code FullHttpResponse}s from
 * the channel's allocator, owned by the pipeline once written. Anything else it reads it passes on.
 *
 * <p>Order: a client may pipeline requests, and the answers must go back in the same order even when one handler
 * answers later than the next. So requests wait in a queue while one is in flight, and reading pauses until the
 * queue is empty again, which keeps the queue short. All state is touched on the channel's event loop only; answers
 * completed elsewhere hop back to it.
 */
final class AdminRequestHandler extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LogManager.getLogger(AdminRequestHandler.class);

  private final AdminDispatcher dispatcher;
  private final ArrayDeque<Exchange> waiting = new ArrayDeque<>();
  private boolean inFlight;
  private boolean draining;
  private boolean closing;

  AdminRequestHandler(AdminDispatcher dispatcher) {
    this.dispatcher = requireNonNull(dispatcher, "dispatcher");
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    Exchange exchange;
    if (msg instanceof FullHttpRequest) {
      FullHttpRequest request = (FullHttpRequest) msg;
      try {
        exchange = Exchange.of(ctx.channel(), request);
      } finally {
        request.release();
      }
    } else if (msg instanceof OversizedRequest) {
      OversizedRequest oversized = (OversizedRequest) msg;
      exchange = Exchange.answered(AdminAggregator.TOO_LARGE, oversized.version(), oversized.keepAlive());
    } else {
      ctx.fireChannelRead(msg);
      return;
    }
    if (closing) {
      return; // An earlier answer closes the connection: later requests get none.
    }
    waiting.add(exchange);
    if (inFlight) {
      ctx.channel().config().setAutoRead(false);
    }
    drain(ctx);
  }

  /** Starts waiting requests one at a time; a loop rather than recursion, since answers may come synchronously. */
  private void drain(ChannelHandlerContext ctx) {
    if (draining) {
      return;
    }
    draining = true;
    try {
      while (!inFlight && !closing) {
        Exchange next = waiting.poll();
        if (next == null) {
          ctx.channel().config().setAutoRead(true);
          return;
        }
        inFlight = true;
        next.answer(dispatcher).whenComplete((response, failure) -> onAnswer(ctx, next, response));
      }
    } finally {
      draining = false;
    }
  }

  private void onAnswer(ChannelHandlerContext ctx, Exchange exchange, @Nullable AdminResponse response) {
    EventExecutor loop = ctx.executor();
    if (loop.inEventLoop()) {
      write(ctx, exchange, response);
      return;
    }
    try {
      loop.execute(() -> write(ctx, exchange, response));
    } catch (RejectedExecutionException e) {
      // The admin loop is shutting down and closes this connection with it: nobody is left to answer.
      LOG.debug("Admin answer to {} dropped: event loop shut down", exchange);
    }
  }

  private void write(ChannelHandlerContext ctx, Exchange exchange, @Nullable AdminResponse response) {
    inFlight = false;
    if (closing || !ctx.channel().isActive()) {
      return;
    }
    // The dispatcher always answers; the fallback only guards against a bug there hanging the connection.
    AdminResponse answer = response != null ? response : AdminDispatcher.Canned.INTERNAL_ERROR;
    boolean keepAlive = exchange.keepAlive();
    ChannelFuture written =
        ctx.writeAndFlush(NettyResponses.toNetty(ctx.alloc(), answer, exchange.version(), keepAlive));
    if (!keepAlive) {
      closing = true;
      waiting.clear();
      written.addListener(ChannelFutureListener.CLOSE);
      return;
    }
    written.addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    drain(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closing = true;
    waiting.clear();
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // Mostly peers resetting connections; nothing to answer, and not worth more than a debug line.
    LOG.debug("Admin connection {} failed, closing it", ctx.channel(), cause);
    ctx.close();
  }

  /**
   * One request waiting for its answer: either an {@link AdminRequest} for the dispatcher, or an answer known
   * already (malformed request, too large). Holds no buffer.
   */
  private static final class Exchange {
    private final @Nullable AdminRequest request;
    private final @Nullable AdminResponse answered;
    private final HttpVersion version;
    private final boolean keepAlive;

    private Exchange(
        @Nullable AdminRequest request, @Nullable AdminResponse answered, HttpVersion version, boolean keepAlive) {
      this.request = request;
      this.answered = answered;
      this.version = version;
      this.keepAlive = keepAlive;
    }

    static Exchange answered(AdminResponse response, HttpVersion version, boolean keepAlive) {
      return new Exchange(null, response, version, keepAlive);
    }

    /** Copies what a handler may need out of {@code request}; the caller still owns and releases it. */
    static Exchange of(Channel channel, FullHttpRequest request) {
      HttpVersion version = request.protocolVersion();
      DecoderResult decoded = request.decoderResult();
      if (decoded.isFailure()) {
        // The codec has lost its place in the stream: answer and close.
        return answered(malformed(decoded.cause()), version, false);
      }
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      QueryStringDecoder uri = new QueryStringDecoder(request.uri());
      Map<String, List<String>> query;
      try {
        query = uri.parameters();
      } catch (IllegalArgumentException e) {
        return answered(AdminResponse.error(400, "Malformed query string"), version, keepAlive);
      }
      AdminRequest adminRequest =
          AdminRequest.builder(request.method(), uri.rawPath())
              .queryParams(query)
              .headers(request.headers())
              .ownedBody(ByteBufUtil.getBytes(request.content()))
              .remoteAddress(channel.remoteAddress())
              .build();
      return new Exchange(adminRequest, null, version, keepAlive);
    }

    private static AdminResponse malformed(@Nullable Throwable cause) {
      if (cause instanceof TooLongHttpLineException) {
        return AdminResponse.error(414, "URI too long");
      }
      if (cause instanceof TooLongHttpHeaderException) {
        return AdminResponse.error(431, "Request header fields too large");
      }
      return AdminResponse.error(400, "Bad request");
    }

    CompletionStage<AdminResponse> answer(AdminDispatcher dispatcher) {
      if (request == null) {
        return CompletableFuture.completedFuture(requireNonNull(answered, "answered"));
      }
      return dispatcher.dispatch(request);
    }

    HttpVersion version() {
      return version;
    }

    boolean keepAlive() {
      return keepAlive;
    }

    @Override
    public String toString() {
      return request != null ? request.toString() : "answer " + answered;
    }
  }
}
