package dev.lb.pool;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lb.backend.Backend;
import dev.lb.config.BackendConfig;
import dev.lb.proxy.HandlerNames;
import dev.lb.testing.EmbeddedDuplexChannel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ReferenceCounted;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The handler at the end of a backend connection's pipeline, on the real backend pipeline (codec, connection). */
class BackendConnectionTest {
  private final Backend backend = new Backend(new BackendConfig("http://127.0.0.1:8081", "127.0.0.1", 8081, 1));
  private final RecordingPool pool = new RecordingPool();
  private final List<ByteBuf> sent = new ArrayList<>();
  private EmbeddedChannel ch;
  private BackendConnection connection;

  /** A pool that only records what the connection tells it. */
  private static final class RecordingPool implements ConnectionPool {
    final List<BackendConnection> offered = new ArrayList<>();
    final List<BackendConnection> removed = new ArrayList<>();

    @Override
    public @Nullable BackendConnection poll(Backend backend) {
      return null;
    }

    @Override
    public @Nullable ChannelFuture connect(Backend backend) {
      throw new UnsupportedOperationException();
    }

    @Override
    public ChannelFuture connectReserved(Backend backend) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void offer(BackendConnection connection) {
      offered.add(connection);
    }

    @Override
    public void remove(BackendConnection connection) {
      removed.add(connection);
    }
  }

  /** Records a request's view of the connection; owns, and releases once recorded, what it is given. */
  private static final class Recorder implements BackendConnection.Listener {
    final List<String> events = new ArrayList<>();
    final List<ReferenceCounted> received = new ArrayList<>();
    final List<@Nullable Throwable> closes = new ArrayList<>();
    Consumer<Object> onRead = msg -> { };

    @Override
    public void onBackendRead(BackendConnection connection, Object msg) {
      events.add(msg instanceof HttpResponse r ? "head " + r.status().code()
          : msg instanceof LastHttpContent ? "end" : msg.getClass().getSimpleName());
      if (msg instanceof ReferenceCounted rc) {
        received.add(rc);
      }
      onRead.accept(msg);
      ReferenceCountUtil.release(msg);
    }

    @Override
    public void onBackendReadComplete(BackendConnection connection) {
      events.add("read complete");
    }

    @Override
    public void onBackendWritabilityChanged(BackendConnection connection) {
      events.add("writability");
    }

    @Override
    public void onBackendClosed(BackendConnection connection, @Nullable Throwable cause) {
      closes.add(cause);
    }
  }

  private EmbeddedChannel open(EmbeddedChannel channel) {
    connection = new BackendConnection(backend, pool);
    ch = channel;
    ch.freezeTime();
    ch.pipeline()
        .addLast(HandlerNames.CLIENT_CODEC, LoopPool.newCodec())
        .addLast(HandlerNames.BACKEND, connection);
    return ch;
  }

  private EmbeddedChannel open() {
    return open(new EmbeddedChannel());
  }

  @AfterEach
  void finish() {
    if (ch != null) {
      assertThat(ch.finishAndReleaseAll()).as("nothing left in the channel's queues").isFalse();
    }
    for (ByteBuf b : sent) {
      assertThat(b.refCnt()).as("every buffer read is released").isZero();
    }
  }

  /** Sends a request, as an exchange would, so that the codec awaits a response. */
  private void request() {
    ch.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"));
    for (Object m; (m = ch.readOutbound()) != null; ) {
      ReferenceCountUtil.release(m);
    }
  }

  private void respond(String raw) {
    ByteBuf b = Unpooled.copiedBuffer(raw, US_ASCII);
    sent.add(b);
    ch.writeInbound(b);
  }

  @Test
  void theConnectionIsFoundAtTheEndOfItsPipeline() {
    BackendConnection alone = new BackendConnection(backend, pool);
    assertThatThrownBy(alone::channel).isInstanceOf(IllegalStateException.class);
    open();
    assertThat(BackendConnection.of(ch)).isSameAs(connection);
    assertThat(connection.channel()).isSameAs(ch);
    assertThat(connection.backend()).isSameAs(backend);
  }

  @Test
  void whileARequestUsesItEveryEventGoesToTheRequestWhichOwnsWhatItReads() {
    open();
    Recorder recorder = new Recorder();
    connection.attach(recorder);
    request();
    respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
    ch.pipeline().fireChannelWritabilityChanged();
    assertThat(recorder.events).containsExactly("head 200", "end", "read complete", "writability");
    assertThat(recorder.received).allSatisfy(m -> assertThat(m.refCnt()).isZero());
    assertThat(ch.isOpen()).isTrue();
    assertThat(connection.uses()).isOne();
    assertThat(connection.reused()).isFalse();
  }

  @Test
  void aReadWhileIdleIsReleasedAndClosesTheConnection() {
    open();
    Recorder recorder = new Recorder();
    connection.attach(recorder);
    request();
    connection.detach();
    respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
    assertThat(recorder.events).as("a detached request hears nothing").isEmpty();
    assertThat(ch.isOpen()).isFalse();
    assertThat(pool.removed).containsExactly(connection);
    assertThat(recorder.closes).isEmpty();
  }

  @Test
  void releaseAfterACleanEndGoesBackToThePoolReadingAgain() {
    open();
    Recorder recorder = new Recorder();
    recorder.onRead = msg -> {
      if (msg instanceof LastHttpContent) {
        connection.release();
      }
    };
    connection.attach(recorder);
    ch.config().setAutoRead(false);
    request();
    respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
    assertThat(pool.offered).containsExactly(connection);
    assertThat(ch.isOpen()).isTrue();
    assertThat(ch.config().isAutoRead()).as("an idle pooled connection reads, to see its backend close").isTrue();

    connection.attach(recorder);
    assertThat(connection.uses()).isEqualTo(2);
    assertThat(connection.reused()).isTrue();
  }

  @Test
  void releaseClosesAConnectionWhoseBackendSentMoreThanItsResponse() {
    open();
    Recorder recorder = new Recorder();
    recorder.onRead = msg -> {
      if (msg instanceof LastHttpContent) {
        connection.release();
      }
    };
    connection.attach(recorder);
    request();
    respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\n");
    assertThat(pool.offered).isEmpty();
    assertThat(ch.isOpen()).isFalse();
    assertThat(pool.removed).containsExactly(connection);
  }

  @Test
  void aFailureWhileInUseIsReportedOnceWithItsCauseAndCloses() {
    open();
    Recorder recorder = new Recorder();
    connection.attach(recorder);
    IOException reset = new IOException("Connection reset by peer");
    ch.pipeline().fireExceptionCaught(reset);
    assertThat(ch.isOpen()).isFalse();
    assertThat(recorder.closes).containsExactly(reset);
    assertThat(pool.removed).containsExactly(connection);
  }

  @Test
  void aCloseWhileInUseIsReportedWithoutACause() {
    open();
    Recorder recorder = new Recorder();
    connection.attach(recorder);
    ch.close();
    assertThat(recorder.closes).hasSize(1).containsOnlyNulls();
    assertThat(pool.removed).containsExactly(connection);
  }

  @Test
  void discardClosesWithoutTellingTheRequest() {
    open();
    Recorder recorder = new Recorder();
    connection.attach(recorder);
    connection.discard();
    assertThat(ch.isOpen()).isFalse();
    assertThat(recorder.closes).isEmpty();
    assertThat(pool.offered).isEmpty();
    assertThat(pool.removed).containsExactly(connection);
  }

  @Test
  void aGracefulCloseShutsTheOutputAndClosesAfterTheTimeout() {
    EmbeddedDuplexChannel socket = new EmbeddedDuplexChannel();
    open(socket);
    Recorder recorder = new Recorder();
    connection.attach(recorder);
    connection.closeGracefully(1_000);
    assertThat(socket.isOutputShutdown()).isTrue();
    assertThat(socket.isOpen()).as("open until the backend closes its end").isTrue();
    socket.advanceTimeBy(999, TimeUnit.MILLISECONDS);
    socket.runScheduledPendingTasks();
    assertThat(socket.isOpen()).isTrue();
    socket.advanceTimeBy(1, TimeUnit.MILLISECONDS);
    socket.runScheduledPendingTasks();
    assertThat(socket.isOpen()).isFalse();
    assertThat(recorder.closes).as("detached first").isEmpty();
  }

  @Test
  void aGracefulCloseOfAChannelThatIsNoSocketClosesAtOnce() {
    open();
    connection.closeGracefully(1_000);
    assertThat(ch.isOpen()).isFalse();
    assertThat(pool.removed).containsExactly(connection);
  }

  @Test
  void itRemembersWhenItWentIdle() {
    open();
    connection.markIdle(42);
    assertThat(connection.idleSince()).isEqualTo(42);
  }
}
