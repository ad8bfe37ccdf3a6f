package dev.lb.it.support;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * One request and its answer on a backend connection, the unit a route implements. {@link ExchangeHandler} makes one
 * when a request head's turn comes, calls {@link #start()}, hands it every body part of that request, forwards
 * writability changes, and calls {@link #closed()} if the connection goes away first. The exchange writes its
 * response through {@link #ctx} and calls {@link #responseComplete()} once the response's last part is written.
 *
 * <p>Buffers: {@link #content(HttpContent)} owns the part it gets and must write or release it; this base class
 * shows the body to {@link #onBody(ByteBuf)} and then releases it.
 */
abstract class Exchange {
  final ChannelHandlerContext ctx;
  final HttpRequest request;
  private boolean responseComplete;

  Exchange(ChannelHandlerContext ctx, HttpRequest request) {
    this.ctx = ctx;
    this.request = request;
  }

  /** The request head has its turn; body parts follow. */
  void start() {}

  /** One part of the request body; this method owns it. */
  void content(HttpContent content) {
    try {
      if (!responseComplete) {
        onBody(content.content());
      }
    } finally {
      content.release();
    }
    if (content instanceof LastHttpContent && !responseComplete) {
      requestEnded();
    }
  }

  /** Body bytes as they arrive; valid only during the call. */
  void onBody(ByteBuf body) {}

  /** The whole request has been read. */
  void requestEnded() {}

  /** The channel's writability changed. */
  void writabilityChanged() {}

  /** The connection closed before the exchange finished; release what it holds. */
  void closed() {}

  final boolean isResponseComplete() {
    return responseComplete;
  }

  /** Marks the response written in full; the handler then moves on to the next request. */
  final void responseComplete() {
    responseComplete = true;
  }
}
