package dev.lb.proxy;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The fuzz harness itself: it passes lb's real behaviour on ordinary traffic, and each invariant fails when lb is made
 * to break it (a handler on the backend pipeline rewrites what lb sends), so that a quiet fuzzing session means
 * something.
 */
class FrontendHarnessTest {

  private static byte[] input(int flags, int split, int clock, int behaviours, String client) {
    byte[] text = client.getBytes(ISO_8859_1);
    byte[] out = new byte[FrontendHarness.HEADER + text.length];
    out[0] = (byte) flags;
    out[1] = (byte) split;
    out[2] = (byte) clock;
    for (int i = 0; i < 4; i++) {
      out[3 + i] = (byte) (behaviours >>> (8 * i));
    }
    System.arraycopy(text, 0, out, FrontendHarness.HEADER, text.length);
    return out;
  }

  private static final String GET = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";

  @Test
  void pipelinedRequestsArePairedOneToOne() {
    FrontendHarness.Outcome o = FrontendHarness.run(input(0, 0, 0, 0, GET + GET
        + "POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"));
    assertThat(o.decoded()).isEqualTo(3);
    assertThat(o.upstream()).isEqualTo(3);
    assertThat(o.responses()).isEqualTo(3);
    assertThat(o.buffers()).isPositive();
  }

  @Test
  void byteByByteReadsGiveTheSameExchanges() {
    FrontendHarness.Outcome o = FrontendHarness.run(input(0, 1, 0, 0, GET + GET));
    assertThat(o.reads()).isEqualTo(2 * GET.length());
    assertThat(o.upstream()).isEqualTo(2);
    assertThat(o.responses()).isEqualTo(2);
  }

  @Test
  void aRetryAfterTheBackendClosedIsNotAnExtraRequest() {
    // First upstream request: the backend closes without answering (behaviour 4); lb sends it again.
    FrontendHarness.Outcome o = FrontendHarness.run(input(0, 0, 0, 0x04, GET));
    assertThat(o.upstream()).isEqualTo(2);
    assertThat(o.dropped()).isEqualTo(1);
    assertThat(o.responses()).isEqualTo(1);
  }

  @Test
  void aRetryAfterAMalformedResponseHeadIsNotAnExtraRequest() {
    // First upstream request: the backend answers garbage (behaviour 8); a bodyless GET is sent again (contract 4).
    FrontendHarness.Outcome o = FrontendHarness.run(input(0, 0, 0, 0x08, GET));
    assertThat(o.upstream()).isEqualTo(2);
    assertThat(o.dropped()).isEqualTo(1);
    assertThat(o.responses()).isEqualTo(1);
  }

  @Test
  void aSmuggledRequestIsCaught() {
    assertThatThrownBy(() -> FrontendHarness.run(input(0, 0, 0, 0, GET),
        rewrite(s -> s.startsWith("GET ") ? s + "GET /smuggled HTTP/1.1\r\nHost: h\r\nX-Request-Id: x\r\n\r\n" : s)))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("\"GET /smuggled HTTP/1.1\" stands for no request the client sent");
  }

  @Test
  void contentLengthWithTransferEncodingIsCaught() {
    String post = "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
    assertThatThrownBy(() -> FrontendHarness.run(input(0, 0, 0, 0, post),
        rewrite(s -> s.replaceFirst("\r\n\r\n", "\r\nTransfer-Encoding: chunked\r\n\r\n"))))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("both Content-Length and Transfer-Encoding");
  }

  @Test
  void controlCharactersInAHeaderAreCaught() {
    for (String bad : List.of("a\rb", "a\0b")) {
      assertThatThrownBy(() -> FrontendHarness.run(input(0, 0, 0, 0, GET),
          rewrite(s -> s.replaceFirst("\r\n\r\n", "\r\nX-Bad: " + bad + "\r\n\r\n"))))
          .isInstanceOf(AssertionError.class)
          .hasMessageContaining("inside a line");
    }
    assertThatThrownBy(() -> FrontendHarness.run(input(0, 0, 0, 0, GET),
        rewrite(s -> s.replaceFirst("\r\n\r\n", "\r\nX-Bad: a\nb\r\n\r\n"))))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("bare LF");
  }

  @Test
  void aBufferLeftUnreleasedIsCaught() {
    List<ByteBuf> kept = new ArrayList<>();
    try {
      assertThatThrownBy(() -> FrontendHarness.run(input(0, 0, 0, 0, GET), p -> p.addAfter("record", "keep",
          new ChannelOutboundHandlerAdapter() {
            @Override
            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
              kept.add(((ByteBuf) msg).retain());
              ctx.write(msg, promise);
            }
          })))
          .isInstanceOf(AssertionError.class)
          .hasMessageContaining("not released after the connections closed");
    } finally {
      kept.forEach(ByteBuf::release);
    }
  }

  /** A backend-side handler that rewrites each buffer lb writes (as text) before the recorder sees it. */
  private static Consumer<ChannelPipeline> rewrite(UnaryOperator<String> edit) {
    return p -> p.addAfter("record", "tamper", new ChannelOutboundHandlerAdapter() {
      @Override
      public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        ByteBuf in = (ByteBuf) msg;
        String text = in.toString(ISO_8859_1);
        in.release();
        ctx.write(ctx.alloc().buffer().writeBytes(edit.apply(text).getBytes(ISO_8859_1)), promise);
      }
    });
  }
}
