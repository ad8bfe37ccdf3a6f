package dev.lb.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lb.backend.Backend;
import dev.lb.config.BackendConfig;
import dev.lb.config.BackendTlsConfig;
import dev.lb.testing.TestCerts;
import dev.lb.tls.ClientTls;
import dev.lb.tls.TlsProvider;
import dev.lb.transport.FailureReasons;
import dev.lb.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The per-loop pool against a TLS server on loopback: connections are ready only after the handshake. */
class TlsLoopPoolTest {
  @TempDir
  static Path dir;
  private static Path ca;
  private static SslContext serverContext;

  private EventLoopGroup group;
  private EventLoop loop;
  private LoopPool pool;
  private Channel server;
  private final List<String> serverEvents = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void certificates() throws Exception {
    TestCerts.Ca authority = TestCerts.newCa("pool test CA");
    ca = authority.writeCertificate(dir.resolve("ca.pem"));
    authority.issue("localhost", "127.0.0.1").write(dir.resolve("server.pem"), dir.resolve("server.key"));
    serverContext = SslContextBuilder.forServer(dir.resolve("server.pem").toFile(), dir.resolve("server.key").toFile())
        .sslProvider(TlsProvider.provider()).build();
  }

  @BeforeEach
  void setUp() {
    group = Transport.detect().newGroup(1, "tls-pool-test");
    loop = group.next();
    server = new ServerBootstrap().group(group).channel(Transport.detect().serverChannel())
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(serverContext.newHandler(ch.alloc()), new ChannelInboundHandlerAdapter() {
              @Override
              public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (evt instanceof SslHandshakeCompletionEvent e) {
                  serverEvents.add(e.isSuccess() ? "handshake" : "handshake failed");
                } else if (evt instanceof SslCloseCompletionEvent) {
                  serverEvents.add("close_notify");
                  ctx.close();
                }
                ReferenceCountUtil.release(evt);
              }

              @Override
              public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close();
              }
            });
          }
        })
        .bind(InetAddress.getLoopbackAddress(), 0).syncUninterruptibly().channel();
    BackendPools pools = new BackendPools(group, Transport.detect().socketChannel(), null,
        new PoolSettings(1000, TimeUnit.SECONDS.toNanos(30), 4));
    pool = pools.forLoop(loop);
  }

  @AfterEach
  void tearDown() throws Exception {
    onLoop(() -> {
      pool.close();
      return null;
    });
    server.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  private <T> T onLoop(Callable<T> task) throws Exception {
    return loop.submit(task).get(10, TimeUnit.SECONDS);
  }

  private static BackendTlsConfig tls(Path caFile, String serverName) throws Exception {
    return new BackendTlsConfig(caFile == null ? "" : caFile.toString(), false, "", "", serverName,
        ClientTls.load(caFile, false, null, null));
  }

  private static Backend backend(int port, BackendTlsConfig tls) {
    return new Backend(new BackendConfig("https://127.0.0.1:" + port, "127.0.0.1", port, 1, 0, "", tls));
  }

  private int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  private ChannelFuture connect(Backend backend) throws Exception {
    ChannelFuture f = onLoop(() -> pool.connect(backend));
    assertThat(f.await(10, TimeUnit.SECONDS)).isTrue();
    return f;
  }

  @Test
  void aConnectionIsReadyOnlyAfterItsHandshakeAndIsPooledAndReusedLikeAPlainOne() throws Exception {
    Backend backend = backend(port(), tls(ca, "localhost"));
    ChannelFuture f = connect(backend);
    assertThat(f.isSuccess()).as("connect: %s", f.cause()).isTrue();
    SslHandler ssl = (SslHandler) f.channel().pipeline().first();
    assertThat(f.channel().pipeline().names().get(0)).isEqualTo(BackendHandlerNames.TLS);
    assertThat(ssl.handshakeFuture().isSuccess()).isTrue();
    assertThat(ssl.engine().getSession().getPeerHost()).isEqualTo("localhost");
    BackendConnection c = BackendConnection.of(f.channel());
    onLoop(() -> {
      c.release();
      return null;
    });
    assertThat(onLoop(() -> pool.poll(backend))).isSameAs(c);
    await().atMost(Duration.ofSeconds(10)).until(() -> serverEvents.equals(List.of("handshake")));
  }

  @Test
  void anUnknownCaFailsTheConnectWithTheHandshakesReasonAndClosesIt() throws Exception {
    Backend backend = backend(port(), tls(null, "localhost"));
    ChannelFuture f = connect(backend);
    assertThat(f.isSuccess()).isFalse();
    assertThat(f.cause()).isInstanceOf(SSLHandshakeException.class);
    assertThat(FailureReasons.describe(f.cause()))
        .startsWith("TLS handshake failed: ").contains("unable to find valid certification path");
    assertThat(f.channel().closeFuture().await(10, TimeUnit.SECONDS)).isTrue();
    await().atMost(Duration.ofSeconds(10)).until(() -> backend.openConnections() == 0);
  }

  @Test
  void aNameTheCertificateDoesNotCoverFailsTheConnect() throws Exception {
    ChannelFuture f = connect(backend(port(), tls(ca, "elsewhere.example")));
    assertThat(f.isSuccess()).isFalse();
    assertThat(FailureReasons.describe(f.cause()))
        .startsWith("TLS handshake failed: ").contains("elsewhere.example");
  }

  @Test
  void aServerThatNeverAnswersTheHandshakeFailsItWithinTheConnectTimeout() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      Backend backend = backend(silent.getLocalPort(), tls(ca, "localhost"));
      ChannelFuture f = onLoop(() -> pool.connect(backend));
      try (Socket ignored = silent.accept()) {
        assertThat(f.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(f.isSuccess()).isFalse();
        assertThat(FailureReasons.describe(f.cause())).startsWith("TLS handshake failed: ").contains("timed out");
      }
    }
  }

  @Test
  void aConnectionMadeWithSettingsAReloadReplacedIsNotPooled() throws Exception {
    Backend backend = backend(port(), tls(ca, "localhost"));
    ChannelFuture f = connect(backend);
    assertThat(f.isSuccess()).isTrue();
    backend.tls(tls(ca, "127.0.0.1"));
    BackendConnection c = BackendConnection.of(f.channel());
    onLoop(() -> {
      c.release();
      return null;
    });
    assertThat(onLoop(() -> pool.idleCount(backend))).isZero();
    assertThat(f.channel().closeFuture().await(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void aGracefulCloseSendsCloseNotify() throws Exception {
    ChannelFuture f = connect(backend(port(), tls(ca, "localhost")));
    assertThat(f.isSuccess()).isTrue();
    BackendConnection c = BackendConnection.of(f.channel());
    onLoop(() -> {
      c.closeGracefully(10_000);
      return null;
    });
    await().atMost(Duration.ofSeconds(10)).until(() -> serverEvents.contains("close_notify"));
    assertThat(f.channel().closeFuture().await(10, TimeUnit.SECONDS)).isTrue();
  }
}
