package dev.lb.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lb.backend.Backend;
import dev.lb.config.BackendConfig;
import dev.lb.transport.Transport;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The per-loop pool against a plain loopback TCP server. */
class LoopPoolTest {
  private ServerSocket server;
  private final List<Socket> accepted = new CopyOnWriteArrayList<>();
  private EventLoopGroup group;
  private EventLoop loop;
  private LoopPool pool;
  private Backend backend;

  @BeforeEach
  void setUp() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(() -> {
      try {
        while (true) {
          accepted.add(server.accept());
        }
      } catch (IOException closed) {
        // the test is over
      }
    }, "test-acceptor");
    acceptor.setDaemon(true);
    acceptor.start();
    int port = server.getLocalPort();
    backend = new Backend(new BackendConfig("http://127.0.0.1:" + port, "127.0.0.1", port, 1));
    group = Transport.detect().newGroup(1, "pool-test");
    loop = group.next();
    BackendPools pools = new BackendPools(group, Transport.detect().socketChannel(), null,
        new PoolSettings(1000, TimeUnit.MILLISECONDS.toNanos(300), 2));
    pool = pools.forLoop(loop);
  }

  @AfterEach
  void tearDown() throws Exception {
    onLoop(() -> {
      pool.close();
      return null;
    });
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    server.close();
    for (Socket s : accepted) {
      s.close();
    }
  }

  private <T> T onLoop(Callable<T> task) throws Exception {
    return loop.submit(task).get(5, TimeUnit.SECONDS);
  }

  private BackendConnection connect() throws Exception {
    ChannelFuture f = onLoop(() -> pool.connect(backend));
    assertThat(f.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(f.isSuccess()).as("connect: %s", f.cause()).isTrue();
    return BackendConnection.of(f.channel());
  }

  private void release(BackendConnection c) throws Exception {
    onLoop(() -> {
      c.release();
      return null;
    });
  }

  private int idle() throws Exception {
    return onLoop(() -> pool.idleCount(backend));
  }

  @Test
  void aReleasedConnectionIsReusedFromThePool() throws Exception {
    BackendConnection c = connect();
    assertThat(c.channel().eventLoop()).isSameAs(loop);
    assertThat(c.backend()).isSameAs(backend);
    release(c);
    assertThat(idle()).isOne();
    BackendConnection again = onLoop(() -> pool.poll(backend));
    assertThat(again).isSameAs(c);
    assertThat(idle()).isZero();
    assertThat(accepted).hasSize(1);
  }

  @Test
  void aConnectionTheBackendClosesLeavesThePool() throws Exception {
    BackendConnection c = connect();
    release(c);
    await().until(() -> accepted.size() == 1);
    accepted.get(0).close();
    await().atMost(Duration.ofSeconds(5)).until(() -> idle() == 0);
    assertThat(c.channel().isActive()).isFalse();
  }

  @Test
  void unexpectedBytesOnAnIdleConnectionCloseIt() throws Exception {
    BackendConnection c = connect();
    release(c);
    await().until(() -> accepted.size() == 1);
    OutputStream out = accepted.get(0).getOutputStream();
    out.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    out.flush();
    await().atMost(Duration.ofSeconds(5)).until(() -> !c.channel().isActive());
    assertThat(idle()).isZero();
  }

  @Test
  void idleConnectionsAreClosedAfterThePoolIdleTimeout() throws Exception {
    BackendConnection c = connect();
    release(c);
    assertThat(idle()).isOne();
    await().atMost(Duration.ofSeconds(5)).until(() -> !c.channel().isActive());
    assertThat(idle()).isZero();
  }

  @Test
  void connectionsOverTheIdleCapAreClosed() throws Exception {
    BackendConnection a = connect();
    BackendConnection b = connect();
    BackendConnection c = connect();
    release(a);
    release(b);
    release(c);
    assertThat(idle()).isEqualTo(2);
    Channel third = c.channel();
    assertThat(third.closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void aRefusedConnectFails() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Backend gone = new Backend(new BackendConfig("http://127.0.0.1:" + port, "127.0.0.1", port, 1));
    ChannelFuture f = onLoop(() -> pool.connect(gone));
    assertThat(f.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(f.isSuccess()).isFalse();
    assertThat(f.cause()).hasMessageContaining("refused");
  }
}
