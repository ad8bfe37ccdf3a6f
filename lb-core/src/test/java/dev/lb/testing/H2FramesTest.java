package dev.lb.testing;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lb.testing.H2Frames.Frame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Frames built by {@link H2Frames} read back as built, and its header blocks decode with Netty's HPACK decoder. */
class H2FramesTest {

  private static Http2Headers decode(byte[] block) throws Exception {
    ByteBuf b = Unpooled.wrappedBuffer(block);
    try {
      return new DefaultHttp2HeadersDecoder(true, 1 << 20).decodeHeaders(1, b);
    } finally {
      b.release();
    }
  }

  @Test
  void framesReadBackAsBuilt() {
    byte[] all = H2Frames.concat(
        H2Frames.settings(H2Frames.SETTINGS_MAX_FRAME_SIZE, 32_768, H2Frames.SETTINGS_ENABLE_PUSH, 0),
        H2Frames.settingsAck(),
        H2Frames.ping(0x0102030405060708L, true),
        H2Frames.rstStream(5, H2Frames.CANCEL),
        H2Frames.windowUpdate(0, 1 << 30),
        H2Frames.goAway(7, H2Frames.ENHANCE_YOUR_CALM, "calm down"),
        H2Frames.data(3, "hi".getBytes(US_ASCII), true),
        H2Frames.paddedData(3, new byte[0], 4, false));
    List<Frame> frames = H2Frames.parse(all);
    assertThat(frames).extracting(Frame::type).containsExactly(H2Frames.SETTINGS, H2Frames.SETTINGS, H2Frames.PING,
        H2Frames.RST_STREAM, H2Frames.WINDOW_UPDATE, H2Frames.GOAWAY, H2Frames.DATA, H2Frames.DATA);
    assertThat(frames.get(0).settings()).containsExactly(
        java.util.Map.entry(H2Frames.SETTINGS_MAX_FRAME_SIZE, 32_768L), java.util.Map.entry(2, 0L));
    assertThat(frames.get(1).hasFlags(H2Frames.ACK)).isTrue();
    assertThat(frames.get(1).payload()).isEmpty();
    assertThat(frames.get(2).pingData()).isEqualTo(0x0102030405060708L);
    assertThat(frames.get(2).hasFlags(H2Frames.ACK)).isTrue();
    assertThat(frames.get(3).streamId()).isEqualTo(5);
    assertThat(frames.get(3).errorCode()).isEqualTo(H2Frames.CANCEL);
    assertThat(frames.get(4).windowIncrement()).isEqualTo(1 << 30);
    assertThat(frames.get(5).lastStreamId()).isEqualTo(7);
    assertThat(frames.get(5).errorCode()).isEqualTo(H2Frames.ENHANCE_YOUR_CALM);
    assertThat(frames.get(5).debugData()).isEqualTo("calm down");
    assertThat(frames.get(6).hasFlags(H2Frames.END_STREAM)).isTrue();
    assertThat(frames.get(6).payload()).containsExactly('h', 'i');
    assertThat(frames.get(7).flags()).isEqualTo(H2Frames.PADDED);
    assertThat(frames.get(7).payload()).containsExactly(4, 0, 0, 0, 0);
    assertThat(H2Frames.concat(frames.stream().map(Frame::bytes).toList())).isEqualTo(all);
  }

  @Test
  void theFrameHeaderIsLengthTypeFlagsStream() {
    byte[] f = H2Frames.frame(0xfa, 0x81, 0x7fff_ffff, new byte[0x010203]);
    assertThat(Arrays.copyOf(f, 9)).containsExactly(1, 2, 3, 0xfa, 0x81, 0x7f, 0xff, 0xff, 0xff);
    assertThat(H2Frames.preface()).asString(US_ASCII).isEqualTo("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  }

  @Test
  void aReaderWaitsForTheRestOfAFrame() {
    byte[] all = H2Frames.concat(H2Frames.ping(1, false), H2Frames.data(1, new byte[300], false));
    H2Frames.Reader r = new H2Frames.Reader();
    List<Frame> frames = new ArrayList<>();
    for (byte b : all) {
      frames.addAll(r.read(new byte[] {b}));
    }
    assertThat(frames).extracting(Frame::type).containsExactly(H2Frames.PING, H2Frames.DATA);
    assertThat(r.pendingBytes()).isZero();
    assertThatThrownBy(() -> H2Frames.parse(Arrays.copyOf(all, all.length - 1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void requestBlocksDecode() throws Exception {
    Http2Headers h = decode(H2Frames.requestBlock("GET", "https", "lb.test", "/", "Accept", "*/*",
        "cookie", "x".repeat(20_000)));
    assertThat(h.method()).hasToString("GET");
    assertThat(h.scheme()).hasToString("https");
    assertThat(h.authority()).hasToString("lb.test");
    assertThat(h.path()).hasToString("/");
    assertThat(h.get("accept")).hasToString("*/*");
    assertThat(h.get("cookie")).hasSize(20_000);
    Http2Headers post = decode(H2Frames.requestBlock("PATCH", "http", "a:8080", "/items?id=1"));
    assertThat(post.method()).hasToString("PATCH");
    assertThat(post.scheme()).hasToString("http");
    assertThat(post.path()).hasToString("/items?id=1");
  }

  @Test
  void aHeaderBlockIsCutIntoHeadersAndContinuations() {
    byte[] block = H2Frames.requestBlock("GET", "https", "lb.test", "/", "cookie", "c".repeat(1000));
    List<Frame> frames = H2Frames.parse(H2Frames.concat(H2Frames.headerBlock(9, block, 100, true)));
    assertThat(frames).hasSize((block.length + 99) / 100);
    assertThat(frames.get(0).type()).isEqualTo(H2Frames.HEADERS);
    assertThat(frames.get(0).flags()).isEqualTo(H2Frames.END_STREAM);
    assertThat(frames.subList(1, frames.size())).allSatisfy(f -> assertThat(f.type()).isEqualTo(H2Frames.CONTINUATION));
    assertThat(frames.subList(0, frames.size() - 1)).noneSatisfy(f -> assertThat(f.hasFlags(H2Frames.END_HEADERS)).isTrue());
    assertThat(frames.get(frames.size() - 1).hasFlags(H2Frames.END_HEADERS)).isTrue();
    assertThat(H2Frames.headerLists(frames).get(9)).singleElement()
        .satisfies(h -> assertThat(h.get("cookie")).hasSize(1000));
  }

  @Test
  void headerListsFollowTheDynamicTableOfWhatTheServerSent() throws Exception {
    DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder();
    List<byte[]> frames = new ArrayList<>();
    for (int stream = 1; stream <= 5; stream += 2) {
      ByteBuf out = Unpooled.buffer();
      try {
        encoder.encodeHeaders(stream, new DefaultHttp2Headers().status("200").add("x-id", "same"), out);
        byte[] block = new byte[out.readableBytes()];
        out.readBytes(block);
        frames.add(H2Frames.headers(stream, H2Frames.END_HEADERS, block));
      } finally {
        out.release();
      }
    }
    var lists = H2Frames.headerLists(H2Frames.parse(H2Frames.concat(frames)));
    assertThat(lists).containsOnlyKeys(1, 3, 5);
    assertThat(lists.values()).allSatisfy(l -> assertThat(l).singleElement()
        .satisfies(h -> assertThat(h.get("x-id")).hasToString("same")));
  }
}
