package dev.lb.it.support;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;

/**
 * Builds the pipeline of a {@link TestBackend} connection:
 *
 * <pre>
 * codec ─► recorder ─► keep-alive ─► expect-continue ─► ws ─► ws-echo ─► exchange
 * </pre>
 *
 * The decoder limits are generous (a backend should see whatever a proxy forwards); keep-alive, {@code Connection:
 * close} and {@code Expect: 100-continue} are Netty's own handlers; {@code /ws} upgrades through Netty's WebSocket
 * protocol handler, which passes every other request on.
 */
final class BackendInitializer extends ChannelInitializer<Channel> {
  static final String CODEC = "codec";
  static final String RECORDER = "recorder";
  static final String KEEP_ALIVE = "keep-alive";
  static final String EXPECT_CONTINUE = "expect-continue";
  static final String WEB_SOCKET = "ws";
  static final String WEB_SOCKET_ECHO = "ws-echo";
  static final String EXCHANGE = "exchange";

  private static final WebSocketEcho ECHO = new WebSocketEcho();

  private final BackendState state;
  private final RequestRecorder recorder;

  BackendInitializer(BackendState state) {
    this.state = state;
    this.recorder = new RequestRecorder(state);
  }

  @Override
  protected void initChannel(Channel ch) {
    // The gate exists before the channel is visible to TestBackend.pauseReading().
    ReadGate.install(ch).set(ReadGate.Reason.PAUSED, state.readingPaused());
    state.accepted(ch);
    ChannelPipeline p = ch.pipeline();
    p.addLast(
        CODEC,
        new HttpServerCodec(
            new HttpDecoderConfig().setMaxInitialLineLength(64 * 1024).setMaxHeaderSize(64 * 1024)));
    p.addLast(RECORDER, recorder);
    p.addLast(KEEP_ALIVE, new HttpServerKeepAliveHandler());
    p.addLast(EXPECT_CONTINUE, new HttpServerExpectContinueHandler());
    p.addLast(
        WEB_SOCKET,
        new WebSocketServerProtocolHandler(
            WebSocketServerProtocolConfig.newBuilder()
                .websocketPath("/ws")
                .checkStartsWith(false)
                .maxFramePayloadLength(16 * 1024 * 1024)
                .build()));
    p.addLast(WEB_SOCKET_ECHO, ECHO);
    p.addLast(EXCHANGE, new ExchangeHandler(state));
  }
}
