package dev.lb.server.admin;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;

/** Builds the pipeline of one admin connection. Stateless; shared by all of them. */
final class AdminChannelInitializer extends ChannelInitializer<SocketChannel> {
  static final String CODEC = "http-codec";
  static final String KEEP_ALIVE = "keep-alive";
  static final String AGGREGATOR = "aggregator";
  static final String REQUESTS = "admin-requests";

  private final AdminDispatcher dispatcher;

  AdminChannelInitializer(AdminDispatcher dispatcher) {
    this.dispatcher = requireNonNull(dispatcher, "dispatcher");
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    ChannelPipeline p = ch.pipeline();
    p.addLast(CODEC, new HttpServerCodec());
    p.addLast(KEEP_ALIVE, new HttpServerKeepAliveHandler());
    p.addLast(AGGREGATOR, new AdminAggregator());
    p.addLast(REQUESTS, new AdminRequestHandler(dispatcher));
  }
}
