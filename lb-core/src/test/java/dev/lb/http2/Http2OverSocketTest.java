package dev.lb.http2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.testing.H2Frames;
import dev.lb.testing.H2Frames.Frame;
import dev.lb.testing.TestCerts;
import dev.lb.tls.TlsProvider;
import dev.lb.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link H2Frames.Client} against lb's codec on a real socket, plain and over TLS. */
class Http2OverSocketTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final List<Flood> floods = new CopyOnWriteArrayList<>();
  private @Nullable EventLoopGroup group;
  private @Nullable Channel server;

  private int start(@Nullable SslContext tls) throws InterruptedException {
    group = Transport.nio().newGroup(1, "h2-socket-test");
    server = new ServerBootstrap().group(group).channel(Transport.nio().serverChannel())
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            if (tls != null) {
              ch.pipeline().addLast(tls.newHandler(ch.alloc()));
            }
            ch.pipeline().addLast(Http2ServerCodecs.newCodec(Http2Limits.defaults(), floods::add));
            ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
              @Override
              protected void initChannel(Http2StreamChannel stream) {
                stream.pipeline().addLast(new EmbeddedH2Server.Responder());
              }
            }));
            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
              @Override
              public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                // The codec has answered with GOAWAY already.
              }
            });
          }
        })
        .bind("127.0.0.1", 0).sync().channel();
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (server != null) {
      server.close().sync();
    }
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
  }

  private static boolean answered(List<Frame> frames, int stream) {
    return frames.stream().anyMatch(f -> f.is(H2Frames.DATA) && f.streamId() == stream
        && f.hasFlags(H2Frames.END_STREAM));
  }

  @Test
  void aGetIsAnsweredAndAPingFloodCutOff() throws Exception {
    int port = start(null);
    try (H2Frames.Client c = H2Frames.connect("127.0.0.1", port, TIMEOUT)) {
      c.writeRaw(H2Frames.preface());
      assertThat(c.write(H2Frames.settings())).isTrue();
      assertThat(c.write(H2Frames.settingsAck())).isTrue();
      assertThat(c.write(H2Frames.get(1, "lb.test", "/"))).isTrue();
      List<Frame> seen = c.awaitFrames(f -> answered(f, 1), TIMEOUT);
      assertThat(H2Frames.headerLists(seen).get(1)).singleElement()
          .satisfies(h -> assertThat(h.status()).hasToString("200"));
      assertThat(seen.get(0).settings()).containsEntry(H2Frames.SETTINGS_MAX_CONCURRENT_STREAMS, 100L);

      for (int i = 0; i < 100_000 && c.write(H2Frames.ping(i, false)); i++) {
        // until lb has had enough
      }
      H2Frames.Result r = c.awaitGoAwayOrEof(TIMEOUT);
      assertThat(r.goAway()).hasValueSatisfying(g -> {
        assertThat(g.errorCode()).isEqualTo(H2Frames.ENHANCE_YOUR_CALM);
        assertThat(g.debugData()).contains("PING");
      });
      assertThat(r.written()).as("frames written before the GOAWAY came").isGreaterThan(3 + 100)
          .isLessThan(100_000 + 3);
      assertThat(r.ofType(H2Frames.PING)).hasSizeLessThanOrEqualTo(100);
      assertThat(c.awaitEof(TIMEOUT).closed()).isTrue();
    }
    assertThat(floods).containsExactly(Flood.PING);
  }

  @Test
  void overTlsWithAlpnH2() throws Exception {
    TestCerts.Ca ca = TestCerts.newCa("h2 test CA");
    TestCerts.Issued leaf = ca.issue("127.0.0.1");
    SslContext tls = SslContextBuilder.forServer(leaf.key(), leaf.certificate())
        .sslProvider(TlsProvider.provider())
        .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1))
        .build();
    int port = start(tls);
    SSLContext client = ca.trustingContext();

    try (H2Frames.Client c = H2Frames.connectTls("127.0.0.1", port, client, TIMEOUT)) {
      assertThat(c.applicationProtocol()).isEqualTo("h2");
      c.writeRaw(H2Frames.start());
      c.write(H2Frames.get(1, "lb.test", "/"));
      assertThat(H2Frames.headerLists(c.awaitFrames(f -> answered(f, 1), TIMEOUT))).containsKey(1);

      c.write(H2Frames.headers(3, H2Frames.END_STREAM, H2Frames.requestBlock("GET", "https", "lb.test", "/")));
      for (int i = 0; i < 10_000 && c.write(H2Frames.continuation(3, false, new byte[0])); i++) {
        // until lb has had enough
      }
      H2Frames.Result r = c.awaitGoAwayOrEof(TIMEOUT);
      assertThat(r.goAway()).hasValueSatisfying(g -> assertThat(g.errorCode()).isEqualTo(H2Frames.ENHANCE_YOUR_CALM));
      assertThat(r.written()).isLessThan(10_000);
    }
    assertThat(floods).containsExactly(Flood.CONTINUATION);
  }
}
