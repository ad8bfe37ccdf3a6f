package dev.lb.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.testing.EmbeddedDuplexChannel;
import dev.lb.testing.Outbound;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The lingering close, on an embedded socket whose time the test drives. */
class LingeringCloseTest {
  private EmbeddedDuplexChannel ch;
  /** What reached the handlers behind the linger (nothing should). */
  private final List<Object> passed = new ArrayList<>();
  private int readsCompleted;
  private final List<ByteBuf> sent = new ArrayList<>();

  @BeforeEach
  void open() {
    ch = new EmbeddedDuplexChannel();
    ch.freezeTime();
    ch.pipeline().addLast("behind", new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        passed.add(msg);
      }

      @Override
      public void channelReadComplete(ChannelHandlerContext ctx) {
        readsCompleted++;
      }
    });
  }

  @AfterEach
  void finish() {
    ch.finishAndReleaseAll();
    for (ByteBuf b : sent) {
      assertThat(b.refCnt()).as("every buffer read is released").isZero();
    }
  }

  private ByteBuf bytes(String s) {
    ByteBuf b = Unpooled.copiedBuffer(s, US_ASCII);
    sent.add(b);
    return b;
  }

  private void advanceMillis(long millis) {
    ch.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
  }

  private static long millis(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  @Test
  void theAnswerGoesOutThenTheOutputIsShutAndReadingGoesOn() {
    ch.config().setAutoRead(false);
    ch.write(bytes("HTTP/1.1 413 Payload Too Large\r\n\r\n"));
    LingeringClose.close(ch);
    assertThat(ch.pipeline().first()).isInstanceOf(LingeringClose.class);
    assertThat(Outbound.drain(ch)).isEqualTo("HTTP/1.1 413 Payload Too Large\r\n\r\n");
    assertThat(ch.isOutputShutdown()).as("shut once what was written went out").isTrue();
    assertThat(ch.isOpen()).isTrue();
    assertThat(ch.config().isAutoRead()).as("reads what the client still sends").isTrue();
  }

  @Test
  void whatTheClientStillSendsIsReleasedAndGoesNoFurther() {
    LingeringClose.close(ch);
    ByteBuf more = bytes("the rest of a large upload");
    ch.writeInbound(more);
    assertThat(more.refCnt()).isZero();
    assertThat(passed).isEmpty();
    assertThat(readsCompleted).isZero();
    assertThat(ch.isOpen()).isTrue();
  }

  @Test
  void aQuietClientIsClosedAfterTheQuietTime() {
    LingeringClose.close(ch);
    advanceMillis(millis(LingeringClose.QUIET) / 2);
    ch.writeInbound(bytes("x"));
    advanceMillis(millis(LingeringClose.QUIET) - 1);
    assertThat(ch.isOpen()).as("quiet for less than the quiet time since the last read").isTrue();
    advanceMillis(1);
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void aClientThatKeepsSendingIsClosedAtTheLimit() {
    LingeringClose.close(ch);
    long step = millis(LingeringClose.QUIET) / 2;
    long elapsed = 0;
    while (elapsed + step < millis(LingeringClose.LIMIT)) {
      advanceMillis(step);
      elapsed += step;
      ch.writeInbound(bytes("x"));
      assertThat(ch.isOpen()).isTrue();
    }
    advanceMillis(millis(LingeringClose.LIMIT) - elapsed);
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void aTimeoutsAnswerLingersAtMostItsShorterLimit() {
    LingeringClose.close(ch, LingeringClose.TIMEOUT_LIMIT);
    advanceMillis(millis(LingeringClose.TIMEOUT_LIMIT) - 1);
    ch.writeInbound(bytes("x"));
    assertThat(ch.isOpen()).isTrue();
    advanceMillis(1);
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void theEndOfTheClientsStreamClosesAtOnce() {
    LingeringClose.close(ch);
    ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
    assertThat(ch.isOpen()).isFalse();
    assertThat(passed).isEmpty();
  }

  @Test
  void aReadErrorClosesAtOnce() {
    LingeringClose.close(ch);
    ch.pipeline().fireExceptionCaught(new IOException("Connection reset by peer"));
    assertThat(ch.isOpen()).isFalse();
    ch.checkException();
  }

  @Test
  void closingCancelsTheTimer() {
    LingeringClose.close(ch);
    ch.close();
    assertThat(ch.runScheduledPendingTasks()).isEqualTo(-1);
  }

  @Test
  void aSecondCloseLeavesTheFirstLingerAlone() {
    LingeringClose.close(ch);
    LingeringClose.close(ch, LingeringClose.TIMEOUT_LIMIT);
    assertThat(ch.pipeline().names().stream().filter(HandlerNames.LINGER::equals)).hasSize(1);
    advanceMillis(millis(LingeringClose.TIMEOUT_LIMIT));
    ch.writeInbound(bytes("x"));
    assertThat(ch.isOpen()).as("the first linger's limit holds").isTrue();
  }

  @Test
  void aChannelThatIsNoSocketOrWhoseOutputIsShutClosesAtOnce() {
    EmbeddedChannel plain = new EmbeddedChannel();
    LingeringClose.close(plain);
    assertThat(plain.isOpen()).isFalse();
    assertThat(plain.pipeline().get(HandlerNames.LINGER)).isNull();

    ch.shutdownOutput();
    LingeringClose.close(ch);
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void closeAfterLingersOnceTheWriteSucceededAndClosesWhenItFailed() {
    LingeringClose.closeAfter(ch.writeAndFlush(bytes("answer")));
    assertThat(ch.pipeline().get(HandlerNames.LINGER)).isNotNull();
    assertThat(ch.isOpen()).isTrue();

    EmbeddedDuplexChannel other = new EmbeddedDuplexChannel();
    LingeringClose.closeAfter(other.newFailedFuture(new IOException("Broken pipe")));
    assertThat(other.isOpen()).isFalse();
    assertThat(other.pipeline().get(HandlerNames.LINGER)).isNull();
  }
}
