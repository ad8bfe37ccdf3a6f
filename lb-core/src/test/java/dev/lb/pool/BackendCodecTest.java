package dev.lb.pool;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The backend codec takes a backend's bytes only as the response to a request it sent. */
class BackendCodecTest {
  private final BackendCodec codec = LoopPool.newCodec();
  private final List<String> seen = new ArrayList<>();
  /** Whether the codec held more bytes as each response ended, in order. */
  private final List<Boolean> unreadAtEnd = new ArrayList<>();
  private final EmbeddedChannel channel = new EmbeddedChannel(codec, new ChannelInboundHandlerAdapter() {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpResponse) {
        HttpResponse r = (HttpResponse) msg;
        seen.add(r.decoderResult().isSuccess() ? "head " + r.status().code()
            : "malformed " + r.decoderResult().cause().getMessage());
      }
      if (msg instanceof HttpContent && ((HttpContent) msg).content().isReadable()) {
        seen.add("content " + ((HttpContent) msg).content().toString(US_ASCII));
      }
      if (msg instanceof LastHttpContent) {
        seen.add("end");
        unreadAtEnd.add(codec.holdsUnreadBytes());
      }
      if (msg instanceof ByteBuf) {
        seen.add("bytes " + ((ByteBuf) msg).toString(US_ASCII));
      }
      ReferenceCountUtil.release(msg);
    }
  });

  @AfterEach
  void tearDown() {
    channel.finishAndReleaseAll();
  }

  private void request(HttpMethod method) {
    channel.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, "/"));
    for (Object m; (m = channel.readOutbound()) != null; ) {
      ReferenceCountUtil.release(m);
    }
  }

  private void respond(String raw) {
    channel.writeInbound(Unpooled.copiedBuffer(raw, US_ASCII));
  }

  @Test
  void aResponseToARequestIsDecodedAndLeavesNothingBehind() {
    request(HttpMethod.GET);
    respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assertThat(seen).containsExactly("head 200", "content ok", "end");
    assertThat(unreadAtEnd).containsExactly(false);
    assertThat(channel.isOpen()).isTrue();

    request(HttpMethod.GET);
    respond("HTTP/1.1 204 No Content\r\n\r\n");
    assertThat(seen).endsWith("head 204", "end");
    assertThat(channel.isOpen()).isTrue();
  }

  @Test
  void bytesBeyondTheResponseAreSeenAsItEndsAndCloseTheConnection() {
    request(HttpMethod.GET);
    respond("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA");
    assertThat(seen).containsExactly("head 200", "content hello", "end");
    assertThat(unreadAtEnd).containsExactly(true);
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void aWholeSecondResponseBeyondTheFirstIsNeverDecoded() {
    request(HttpMethod.GET);
    respond("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
        + "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged");
    assertThat(seen).containsExactly("head 200", "content hello", "end");
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void bytesWhileNoResponseIsDueCloseTheConnection() {
    request(HttpMethod.GET);
    respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assertThat(channel.isOpen()).isTrue();
    respond("EXTRA");
    assertThat(seen).containsExactly("head 200", "content ok", "end");
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void bytesBeforeAnyRequestCloseTheConnection() {
    respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assertThat(seen).isEmpty();
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void aResponseToHeadHasNoBodyWhateverItsHeadersSay() {
    request(HttpMethod.HEAD);
    respond("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
    assertThat(seen).containsExactly("head 200", "end");
    assertThat(unreadAtEnd).containsExactly(false);
    assertThat(channel.isOpen()).isTrue();

    request(HttpMethod.GET);
    respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assertThat(seen).endsWith("head 200", "content ok", "end");
  }

  @Test
  void aBodySentWithAResponseToHeadClosesTheConnection() {
    request(HttpMethod.HEAD);
    respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assertThat(seen).containsExactly("head 200", "end");
    assertThat(unreadAtEnd).containsExactly(true);
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void interimResponsesKeepTheWaitForTheFinalOne() {
    request(HttpMethod.POST);
    respond("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assertThat(seen).containsExactly("head 100", "end", "head 200", "content ok", "end");
    assertThat(unreadAtEnd).containsExactly(true, false);
    assertThat(channel.isOpen()).isTrue();
  }

  @Test
  void bytesAfterSwitchingProtocolsPassThrough() {
    request(HttpMethod.GET);
    respond("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\nframe");
    respond("more");
    assertThat(seen).containsExactly("head 101", "end", "bytes frame", "bytes more");
    assertThat(channel.isOpen()).isTrue();
  }

  @Test
  void aHeaderLineWithoutAColonIsAMalformedHeadAndTheRestIsDropped() {
    request(HttpMethod.GET);
    respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nNo colon here\r\n\r\nok");
    assertThat(seen).containsExactly("malformed malformed response: a header line without a colon");
    respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assertThat(seen).as("nothing more is taken from a refused connection").hasSize(1);
  }

  @Test
  void aTransferEncodingWithoutItsColonIsNotTakenAsAnEmptyOne() {
    request(HttpMethod.GET);
    respond("HTTP/1.1 200 OK\r\nTransfer-Encoding chunked\r\nContent-Length: 2\r\n\r\nok");
    assertThat(seen).containsExactly("malformed malformed response: a header line without a colon");
  }

  @Test
  void aLineWithoutAColonIsFoundWhenTheHeadArrivesByteByByte() {
    request(HttpMethod.GET);
    for (char c : "HTTP/1.1 200 OK\r\nA: 1\r\nbogus\r\nContent-Length: 2\r\n\r\nok".toCharArray()) {
      respond(String.valueOf(c));
    }
    assertThat(seen).containsExactly("malformed malformed response: a header line without a colon");
  }

  @Test
  void leadingBlankLinesFoldedLinesAndSpaceBeforeAColonAreNoReasonToRefuse() {
    request(HttpMethod.GET);
    respond("\r\nHTTP/1.1 200 OK\r\nX-Folded: a\r\n  b\r\nContent-Length : 2\r\n\r\nok");
    assertThat(seen).containsExactly("head 200", "content ok", "end");
    assertThat(channel.isOpen()).isTrue();
  }

  @Test
  void theFinalHeadAfterAnInterimOneIsCheckedToo() {
    request(HttpMethod.POST);
    respond("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nbroken line\r\nContent-Length: 2\r\n\r\nok");
    assertThat(seen).containsExactly("head 100", "end", "malformed malformed response: a header line without a colon");
  }

  @Test
  void aBodyLineWithoutAColonIsNotAHeaderLine() {
    request(HttpMethod.GET);
    respond("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nno colon\r\nx\n");
    assertThat(seen).containsExactly("head 200", "content no colon\r\nx\n", "end");
    assertThat(channel.isOpen()).isTrue();
  }

  @Test
  void transferEncodingOtherThanChunkedAloneIsRefused() {
    for (String framing : new String[] {"Transfer-Encoding: gzip\r\nContent-Length: 2",
        "Transfer-Encoding: identity\r\nContent-Length: 2", "Transfer-Encoding: gzip", "Transfer-Encoding:"}) {
      BackendCodecTest fresh = new BackendCodecTest();
      fresh.request(HttpMethod.GET);
      fresh.respond("HTTP/1.1 200 OK\r\n" + framing + "\r\n\r\nok");
      assertThat(fresh.seen).as(framing).singleElement().asString().startsWith("malformed malformed response: "
          + "Transfer-Encoding");
      fresh.tearDown();
    }
    request(HttpMethod.GET);
    respond("HTTP/1.1 200 OK\r\nTransfer-Encoding:  Chunked \r\n\r\n2\r\nok\r\n0\r\n\r\n");
    // Relayed as its bytes, chunk framing included.
    assertThat(seen).containsExactly("head 200", "content 2\r\nok\r\n0\r\n\r\n", "end");
  }
}
