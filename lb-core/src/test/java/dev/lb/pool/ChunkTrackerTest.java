package dev.lb.pool;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A chunked body relayed as its bytes, through the backend codec: the bytes come out as they went in (framing
 * included) wherever the reads split them, the data is counted without the framing, the end is found, forbidden
 * trailer fields are left out, and malformed framing fails the body.
 */
class ChunkTrackerTest {
  private static final String HEAD = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  private static final String BODY = "5\r\nhello\r\n1;name=value\r\n \r\n10\r\n0123456789abcdef\r\n0\r\n\r\n";

  private EmbeddedChannel channel = newChannel(HttpVersion.HTTP_1_1);

  private static EmbeddedChannel newChannel(HttpVersion version) {
    EmbeddedChannel ch = new EmbeddedChannel(LoopPool.newCodec(true));
    ch.writeOutbound(new DefaultFullHttpRequest(version, HttpMethod.GET, "/"));
    for (Object m; (m = ch.readOutbound()) != null; ) {
      ReferenceCountUtil.release(m);
    }
    return ch;
  }

  @AfterEach
  void tearDown() {
    channel.finishAndReleaseAll();
  }

  /** What the codec passed on: the bytes, the data count, whether it ended, whether it failed. */
  private record Relayed(String bytes, long data, boolean ended, boolean failed, boolean raw) {}

  private Relayed relay(String... reads) {
    StringBuilder bytes = new StringBuilder();
    long data = 0;
    boolean ended = false;
    boolean failed = false;
    boolean raw = false;
    for (String read : reads) {
      if (channel.isOpen()) {
        channel.writeInbound(Unpooled.copiedBuffer(read, ISO_8859_1));
      }
      for (Object m; (m = channel.readInbound()) != null; ) {
        if (m instanceof RawResponse) {
          raw = true;
        } else if (m instanceof HttpContent) {
          HttpContent c = (HttpContent) m;
          assertThat(ended).as("nothing after the last piece").isFalse();
          failed |= c.decoderResult().isFailure();
          bytes.append(c.content().toString(ISO_8859_1));
          data += RawContent.dataBytes(c);
          ended = m instanceof LastHttpContent;
        }
        ReferenceCountUtil.release(m);
      }
    }
    return new Relayed(bytes.toString(), data, ended, failed, raw);
  }

  @Test
  void theBodyPassesAsItCameWhereverTheReadsSplitIt() {
    String all = HEAD + BODY;
    for (int cut = HEAD.length(); cut < all.length(); cut++) {
      channel.finishAndReleaseAll();
      channel = newChannel(HttpVersion.HTTP_1_1);
      Relayed r = relay(all.substring(0, cut), all.substring(cut));
      assertThat(r.raw).isTrue();
      assertThat(r.bytes).as("cut at %d", cut).isEqualTo(BODY);
      assertThat(r.data).as("cut at %d", cut).isEqualTo(5 + 1 + 16);
      assertThat(r.ended).isTrue();
      assertThat(r.failed).isFalse();
    }
  }

  @Test
  void byteByByteToo() {
    String all = HEAD + BODY;
    String[] reads = new String[all.length()];
    for (int i = 0; i < reads.length; i++) {
      reads[i] = all.substring(i, i + 1);
    }
    Relayed r = relay(reads);
    assertThat(r.bytes).isEqualTo(BODY);
    assertThat(r.ended).isTrue();
    assertThat(r.failed).isFalse();
  }

  @Test
  void bytesAfterTheEndAreNotPartOfTheBody() {
    Relayed r = relay(HEAD + "2\r\nhi\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n");
    assertThat(r.bytes).isEqualTo("2\r\nhi\r\n0\r\n\r\n");
    assertThat(r.ended).isTrue();
    assertThat(channel.isOpen()).as("bytes no request asked for close the connection").isFalse();
  }

  @Test
  void trailersPassLessTheForbiddenOnes() {
    Relayed r = relay(HEAD + "2\r\nhi\r\n0\r\nX-Checksum: c1\r\nContent-Length: 99\r\nset-cookie: a=b\r\n"
        + "X-Other:\tv\r\n\r\n");
    assertThat(r.bytes).isEqualTo("2\r\nhi\r\n0\r\nX-Checksum: c1\r\nX-Other:\tv\r\n\r\n");
    assertThat(r.data).isEqualTo(2);
    assertThat(r.ended).isTrue();
  }

  @Test
  void trailersWaitUntilTheyAreWhole() {
    Relayed r = relay(HEAD + "2\r\nhi\r\n0\r\nX-Chec", "ksum: c1\r\n", "\r\n");
    assertThat(r.bytes).isEqualTo("2\r\nhi\r\n0\r\nX-Checksum: c1\r\n\r\n");
    assertThat(r.ended).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "2\r\nhiX\r\n0\r\n\r\n",          // no CRLF after the data
      "2\r\nhi\n0\r\n\r\n",             // a bare LF after the data
      "2\nhi\r\n0\r\n\r\n",             // a bare LF after the size
      " 2\r\nhi\r\n0\r\n\r\n",          // whitespace before the size
      "2 \r\nhi\r\n0\r\n\r\n",          // whitespace after the size
      "0x2\r\nhi\r\n0\r\n\r\n",
      "-2\r\nhi\r\n0\r\n\r\n",
      "g\r\nhi\r\n0\r\n\r\n",
      "1000000000000000\r\n",           // 16 hex digits
      "2;a\u0000b\r\nhi\r\n0\r\n\r\n",  // a control byte in an extension
      "2\r\nhi\r\n0\r\nno colon\r\n\r\n",
      "2\r\nhi\r\n0\r\nX-A : 1\r\n\r\n",
      "2\r\nhi\r\n0\r\nX-A: 1\n\r\n",
  })
  void malformedFramingFailsTheBody(String body) {
    Relayed r = relay(HEAD + body);
    assertThat(r.failed).isTrue();
    assertThat(r.ended).isTrue();
  }

  @Test
  void aSizeLineOrATrailerSectionPastTheLimitsFails() {
    assertThat(relay(HEAD + "2;" + "e".repeat(LoopPool.MAX_RESPONSE_LINE)).failed).isTrue();
    channel.finishAndReleaseAll();
    channel = newChannel(HttpVersion.HTTP_1_1);
    assertThat(relay(HEAD + "0\r\nX-Big: " + "b".repeat(LoopPool.MAX_RESPONSE_HEAD)).failed).isTrue();
  }

  @Test
  void anHttp10ClientsResponseIsDecoded() {
    channel.finishAndReleaseAll();
    channel = newChannel(HttpVersion.HTTP_1_0);
    Relayed r = relay(HEAD + "2\r\nhi\r\n0\r\n\r\n");
    assertThat(r.raw).isFalse();
    assertThat(r.bytes).as("decoded: the data only").isEqualTo("hi");
    assertThat(r.ended).isTrue();
  }

  @Test
  void theDataCountOfAPlainPieceIsItsLength() {
    HttpContent plain = new io.netty.handler.codec.http.DefaultHttpContent(Unpooled.copiedBuffer("abc", ISO_8859_1));
    assertThat(RawContent.dataBytes(plain)).isEqualTo(3);
    plain.release();
    assertThat(List.of(RawContent.dataBytes(LastHttpContent.EMPTY_LAST_CONTENT))).containsExactly(0L);
  }
}
