package dev.lb.pool;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which heads the byte relay takes, what it learns from them, and how their bodies come out of the codec. */
class HeadScannerTest {
  private final HeadScanner scanner = new HeadScanner();
  private final List<ByteBuf> buffers = new ArrayList<>();
  private final EmbeddedChannel channel = new EmbeddedChannel(LoopPool.newCodec(true));

  @AfterEach
  void tearDown() {
    channel.finishAndReleaseAll();
    for (ByteBuf b : buffers) {
      b.release(b.refCnt());
    }
  }

  private @org.jspecify.annotations.Nullable RawResponse scan(String head, boolean headRequest) {
    return scan(head, headRequest, true);
  }

  private @org.jspecify.annotations.Nullable RawResponse scan(String head, boolean headRequest, boolean chunkedOk) {
    ByteBuf b = Unpooled.copiedBuffer(head, ISO_8859_1);
    buffers.add(b);
    RawResponse raw = scanner.scan(b, 8192, 65536, headRequest, chunkedOk);
    return raw;
  }

  private static String written(RawResponse raw) {
    ByteBuf out = Unpooled.buffer();
    raw.writeTo(out);
    String s = out.toString(US_ASCII);
    out.release();
    return s;
  }

  @Test
  void aPlainHeadIsTakenWithItsFactsAndItsHopByHopLinesLeftOut() {
    RawResponse raw = scan(head404() + "body follows", false);
    assertThat(raw).isNotNull();
    assertThat(scanner.outcome()).isEqualTo(HeadScanner.Outcome.HEAD);
    assertThat(raw.status().code()).isEqualTo(404);
    assertThat(raw.contentLength()).isEqualTo(12);
    assertThat(raw.keepAlive()).isTrue();
    assertThat(raw.headLength()).isEqualTo(head404().length());
    raw.headers().set("Server", "lb");
    raw.set(io.netty.util.AsciiString.of("x-request-id"), "id-0");
    raw.set(io.netty.util.AsciiString.of("X-Request-Id"), "id-1");
    assertThat(written(raw)).isEqualTo("HTTP/1.1 404 Not Found\r\nContent-Length: 12\r\nx-request-id: id-1\r\n"
        + "Server: lb\r\n\r\n");
    raw.release();
  }

  private static String head404() {
    return "HTTP/1.1 404 Not Found\r\nServer: x\r\nConnection: keep-alive\r\nKeep-Alive: 5\r\n"
        + "Content-Length: 12\r\nUpgrade: h2c\r\n\r\n";
  }

  @Test
  void keepAliveFollowsTheVersionAndConnection() {
    RawResponse close = scan("HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n", false);
    RawResponse old = scan("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false);
    RawResponse oldKept = scan("HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n",
        false);
    assertThat(close.keepAlive()).isFalse();
    assertThat(old.keepAlive()).isFalse();
    assertThat(oldKept.keepAlive()).isFalse();
    assertThat(written(old)).startsWith("HTTP/1.1 200 OK\r\n");
    close.release();
    old.release();
    oldKept.release();
  }

  @Test
  void theAnswerToHeadHasNoBody() {
    RawResponse raw = scan("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", true);
    assertThat(raw.contentLength()).isZero();
    raw.release();
  }

  @Test
  void aHeadNotYetWholeAsksForMore() {
    assertThat(scan("HTTP/1.", false)).isNull();
    assertThat(scanner.outcome()).isEqualTo(HeadScanner.Outcome.MORE);
    assertThat(scan("HTTP/1.1 200 OK\r\nContent-Le", false)).isNull();
    assertThat(scanner.outcome()).isEqualTo(HeadScanner.Outcome.MORE);
  }

  @Test
  void headsOverTheDecodersLimitsAreLeftToItToRefuse() {
    assertThat(scan("HTTP/1.1 200 OK\r\nX-Big: " + "a".repeat(70_000) + "\r\nContent-Length: 2\r\n\r\n", false))
        .isNull();
    assertThat(scanner.outcome()).isEqualTo(HeadScanner.Outcome.DECLINED);
    assertThat(scan("HTTP/1.1 200 " + "O".repeat(9000) + "\r\nContent-Length: 2\r\n\r\n", false)).isNull();
    assertThat(scanner.outcome()).isEqualTo(HeadScanner.Outcome.DECLINED);
    assertThat(scan("HTTP/1.1 200 OK\r\nX-Big: " + "a".repeat(60_000), false)).isNull();
    assertThat(scanner.outcome()).isEqualTo(HeadScanner.Outcome.MORE);
    RawResponse big = scan("HTTP/1.1 200 OK\r\nX-Big: " + "a".repeat(60_000) + "\r\nContent-Length: 2\r\n\r\n", false);
    assertThat(big).isNotNull();
    big.release();
  }

  @Test
  void aChunkedHeadIsTakenWhenTheClientCanTakeChunks() {
    RawResponse raw = scan("HTTP/1.1 200 OK\r\ntransfer-encoding:  Chunked \r\n\r\n", false);
    assertThat(raw).isNotNull();
    assertThat(raw.chunked()).isTrue();
    assertThat(raw.contentLength()).isEqualTo(-1);
    raw.release();
    assertThat(scan("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true))
        .as("an answer to HEAD loses its Transfer-Encoding in the decoder: left to it").isNull();
    assertThat(scan("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, false))
        .as("an HTTP/1.0 client gets the body unchunked, from the decoder").isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunkedx\r\n\r\n",
      "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
      "HTTP/1.1 200 OK\r\n\r\n",
      "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 304 Not Modified\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 100 Continue\r\n\r\n",
      "HTTP/1.1 101 Switching Protocols\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 1\r\n\r\n",
      "HTTP/1.1 200 OK\nContent-Length: 1\n\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nX-A: caf\u00e9\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: x-hop\r\n\r\n",
      "HTTP/1.1 200 OK\r\nno colon\r\nContent-Length: 1\r\n\r\n",
      " HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n",
      "HTTP/2.0 200 OK\r\nContent-Length: 1\r\n\r\n",
      "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\n",
      "HTTP/1.1 2000 OK\r\nContent-Length: 1\r\n\r\n",
      "HTTP/1.1 600 Beyond\r\nContent-Length: 1\r\n\r\n"})
  void anyOtherHeadIsLeftToTheDecoder(String head) {
    assertThat(scan(head, false)).isNull();
    assertThat(scanner.outcome()).isEqualTo(HeadScanner.Outcome.DECLINED);
  }

  @Test
  void theCodecPassesARawHeadAndItsBodyInSlicesAcrossReads() {
    channel.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"));
    for (Object m; (m = channel.readOutbound()) != null; ) {
      ReferenceCountUtil.release(m);
    }
    channel.writeInbound(Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\nContent-", US_ASCII));
    assertThat((Object) channel.readInbound()).isNull();
    channel.writeInbound(Unpooled.copiedBuffer("Length: 10\r\n\r\nhello", US_ASCII));
    channel.writeInbound(Unpooled.copiedBuffer("world", US_ASCII));
    List<String> seen = new ArrayList<>();
    for (Object m; (m = channel.readInbound()) != null; ) {
      if (m instanceof RawResponse) {
        seen.add("raw " + ((RawResponse) m).status().code());
      } else if (m instanceof LastHttpContent) {
        seen.add("last " + ((HttpContent) m).content().toString(US_ASCII));
      } else if (m instanceof HttpContent) {
        seen.add("content " + ((HttpContent) m).content().toString(US_ASCII));
      }
      ReferenceCountUtil.release(m);
    }
    assertThat(seen).containsExactly("raw 200", "content hello", "last world");
    assertThat(channel.isOpen()).isTrue();
  }
}
