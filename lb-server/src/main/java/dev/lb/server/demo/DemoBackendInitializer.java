package dev.lb.server.demo;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;

/**
 * Builds the pipeline of one demo backend connection and records the connection in the backend's channel group, so
 * that closing the backend closes its connections while the shared event loop group lives on.
 */
final class DemoBackendInitializer extends ChannelInitializer<SocketChannel> {
  static final String CODEC = "http-codec";
  static final String KEEP_ALIVE = "keep-alive";
  static final String EXPECT_CONTINUE = "expect-continue";
  static final String ECHO = "echo";

  private final String name;
  private final ChannelGroup connections;

  DemoBackendInitializer(String name, ChannelGroup connections) {
    this.name = requireNonNull(name, "name");
    this.connections = requireNonNull(connections, "connections");
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    connections.add(ch);
    ChannelPipeline p = ch.pipeline();
    p.addLast(CODEC, new HttpServerCodec());
    // Before the continue handler, so that the interim 100 passes through it and is not counted as the answer.
    p.addLast(KEEP_ALIVE, new HttpServerKeepAliveHandler());
    p.addLast(EXPECT_CONTINUE, new HttpServerExpectContinueHandler());
    p.addLast(ECHO, new DemoBackendHandler(name));
  }
}
