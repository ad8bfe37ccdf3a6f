package dev.lb.it.support;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.jspecify.annotations.Nullable;

/**
 * Builds the pipeline of a {@link TestBackend} connection:
 *
 * <pre>
 * [tls ─► tls-record ─►] codec ─► recorder ─► keep-alive ─► expect-continue ─► ws ─► ws-echo ─► exchange
 * </pre>
 *
 * With a TLS context, the connection starts with an {@link SniHandler} that records the SNI name sent and puts the
 * context's handler in its place; the handshake's outcome and the client's certificate are recorded after it.
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
  static final String TLS = "tls";
  static final String TLS_RECORD = "tls-record";

  private static final WebSocketEcho ECHO = new WebSocketEcho();

  private final BackendState state;
  private final RequestRecorder recorder;
  private final @Nullable SslContext tls;

  BackendInitializer(BackendState state, @Nullable SslContext tls) {
    this.state = state;
    this.recorder = new RequestRecorder(state);
    this.tls = tls;
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
    SslContext context = tls;
    if (context != null) {
      p.addFirst(TLS_RECORD, new TlsRecorder(state));
      p.addFirst(TLS, new SniHandler(hostname -> {
        state.sni(hostname);
        return context;
      }));
    }
  }

  /** Records each handshake: the client's certificate subject, or that it failed. */
  private static final class TlsRecorder extends ChannelInboundHandlerAdapter {
    private final BackendState state;

    TlsRecorder(BackendState state) {
      this.state = state;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof SslHandshakeCompletionEvent done) {
        if (done.isSuccess()) {
          SslHandler ssl = ctx.pipeline().get(SslHandler.class);
          String subject = "";
          try {
            Certificate[] peer = ssl.engine().getSession().getPeerCertificates();
            subject = ((X509Certificate) peer[0]).getSubjectX500Principal().getName();
          } catch (SSLPeerUnverifiedException none) {
            // The client presented no certificate.
          }
          state.handshake(subject);
        } else {
          state.handshakeFailed();
        }
      }
      super.userEventTriggered(ctx, evt);
    }
  }
}
