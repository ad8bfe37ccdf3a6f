package dev.lb.http2;

import static dev.lb.testing.H2Frames.CANCEL;
import static dev.lb.testing.H2Frames.ENHANCE_YOUR_CALM;
import static dev.lb.testing.H2Frames.concat;
import static dev.lb.testing.H2Frames.continuation;
import static dev.lb.testing.H2Frames.data;
import static dev.lb.testing.H2Frames.get;
import static dev.lb.testing.H2Frames.headerBlock;
import static dev.lb.testing.H2Frames.headers;
import static dev.lb.testing.H2Frames.paddedData;
import static dev.lb.testing.H2Frames.ping;
import static dev.lb.testing.H2Frames.requestBlock;
import static dev.lb.testing.H2Frames.rstStream;
import static dev.lb.testing.H2Frames.settings;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.testing.H2Frames;
import dev.lb.testing.H2Frames.Frame;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * Each flood, sent frame by frame to lb's codec, ends the connection with GOAWAY {@code ENHANCE_YOUR_CALM} within a
 * bounded number of frames and is reported once; traffic of the kind browsers send is not taken for a flood.
 */
class Http2FloodTest {
  private static final String HOST = "lb.test";

  /** The defaults, with the flood limits given. */
  static Http2Limits limits(int resets, int settings, int pings, int emptyData) {
    Http2Limits d = Http2Limits.defaults();
    return new Http2Limits(d.maxConcurrentStreams(), d.maxHeaderListSize(), d.initialWindowSize(), d.maxFrameSize(),
        d.window(), resets, settings, pings, emptyData, d.maxContinuations(), d.gracefulShutdown());
  }

  private static List<byte[]> times(int n, IntFunction<byte[]> frame) {
    List<byte[]> frames = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      frames.add(frame.apply(i));
    }
    return frames;
  }

  private static byte[] getSlow(int streamId) {
    return headers(streamId, H2Frames.END_STREAM | H2Frames.END_HEADERS, requestBlock("GET", "https", HOST, "/slow"));
  }

  /** One GOAWAY ENHANCE_YOUR_CALM, the flood reported once, the connection closed. */
  private static void assertCalmedDown(EmbeddedH2Server s, Flood flood) {
    assertThat(s.floods).containsExactly(flood);
    List<Frame> goAways = s.goAways();
    assertThat(goAways).hasSize(1);
    assertThat(goAways.get(0).errorCode()).isEqualTo(ENHANCE_YOUR_CALM);
    assertThat(s.ch.isOpen()).isFalse();
  }

  @Test
  void lbAnnouncesItsLimitsAndGrowsTheConnectionWindow() {
    try (EmbeddedH2Server s = new EmbeddedH2Server(Http2Limits.defaults())) {
      assertThat(s.ch.pipeline().get(io.netty.handler.codec.http2.Http2FrameCodec.class)
          .gracefulShutdownTimeoutMillis()).isEqualTo(30_000);
      List<Frame> first = s.drain();
      assertThat(first.get(0).is(H2Frames.SETTINGS)).isTrue();
      assertThat(first.get(0).settings()).containsEntry(H2Frames.SETTINGS_MAX_CONCURRENT_STREAMS, 100L)
          .containsEntry(H2Frames.SETTINGS_MAX_HEADER_LIST_SIZE, 16_384L)
          .containsEntry(H2Frames.SETTINGS_INITIAL_WINDOW_SIZE, 1L << 20)
          .containsEntry(H2Frames.SETTINGS_MAX_FRAME_SIZE, 16_384L);
      assertThat(first).filteredOn(f -> f.is(H2Frames.WINDOW_UPDATE) && f.streamId() == 0)
          .singleElement()
          .satisfies(f -> assertThat(f.windowIncrement()).isEqualTo(2 * ((1 << 20) - 65_535)));
      s.start();
      s.feed(get(1, HOST, "/"));
      Map<Integer, List<io.netty.handler.codec.http2.Http2Headers>> lists = H2Frames.headerLists(s.received);
      assertThat(lists.get(1)).singleElement().satisfies(h -> assertThat(h.status()).hasToString("200"));
      assertThat(s.received).anySatisfy(f -> assertThat(f.is(H2Frames.DATA) && f.streamId() == 1).isTrue());
      assertThat(s.floods).isEmpty();
    }
  }

  @Test
  void streamsResetBeforeTheirAnswerAreARapidReset() {
    try (EmbeddedH2Server s = new EmbeddedH2Server(Http2Limits.defaults())) {
      s.start();
      List<byte[]> flood = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        flood.add(getSlow(2 * i + 1));
        flood.add(rstStream(2 * i + 1, CANCEL));
      }
      int fed = s.feedUntilClosed(flood);
      assertThat(fed).as("frames fed, the 101st reset last").isEqualTo(2 * 101);
      assertCalmedDown(s, Flood.RAPID_RESET);
      assertThat(s.streams).isEqualTo(101);
    }
  }

  @Test
  void aRapidResetInOneReadIsCutShortThere() {
    try (EmbeddedH2Server s = new EmbeddedH2Server(Http2Limits.defaults())) {
      s.start();
      List<byte[]> flood = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        flood.add(get(2 * i + 1, HOST, "/"));
        flood.add(rstStream(2 * i + 1, CANCEL));
      }
      s.feed(concat(flood));
      assertCalmedDown(s, Flood.RAPID_RESET);
      assertThat(s.streams).as("streams begun, the rest of the read dropped").isEqualTo(101);
    }
  }

  @Test
  void resetsOfFinishedStreamsAreBoundedAtTenTimesTheLimit() {
    try (EmbeddedH2Server s = new EmbeddedH2Server(limits(5, 100, 100, 100))) {
      s.start();
      s.feed(get(1, HOST, "/"));
      assertThat(H2Frames.headerLists(s.received)).containsKey(1);
      int fed = s.feedUntilClosed(times(200, i -> rstStream(1, CANCEL)));
      assertThat(fed).isEqualTo(51);
      assertCalmedDown(s, Flood.RAPID_RESET);
    }
  }

  @Test
  void endlessEmptyContinuationsAreAContinuationFlood() {
    try (EmbeddedH2Server s = new EmbeddedH2Server(Http2Limits.defaults())) {
      s.start();
      List<byte[]> flood = new ArrayList<>();
      flood.add(headers(1, H2Frames.END_STREAM, requestBlock("GET", "https", HOST, "/")));
      flood.addAll(times(10_000, i -> continuation(1, false, new byte[0])));
      int fed = s.feedUntilClosed(flood);
      assertThat(fed).as("HEADERS and 33 CONTINUATION frames").isEqualTo(1 + 33);
      assertCalmedDown(s, Flood.CONTINUATION);
    }
  }

  @Test
  void smallContinuationsInOneReadAreCaughtByLbBeforeNetty() {
    try (EmbeddedH2Server s = new EmbeddedH2Server(Http2Limits.defaults())) {
      s.start();
      byte[] block = requestBlock("GET", "https", HOST, "/", "cookie", "c".repeat(9000));
      s.feed(concat(headerBlock(1, block, 100, true)));
      assertCalmedDown(s, Flood.CONTINUATION);
    }
  }

  @Test
  void aHeaderBlockGrowingPastTheHeaderListSizeEndsTheConnection() {
    try (EmbeddedH2Server s = new EmbeddedH2Server(Http2Limits.defaults())) {
      s.start();
      byte[] block = requestBlock("GET", "https", HOST, "/", "cookie", "c".repeat(100_000));
      int fed = s.feedUntilClosed(headerBlock(1, block, 4000, true));
      assertThat(fed).as("4000 bytes a frame: the fifth passes 16384 + 300").isEqualTo(5);
      assertCalmedDown(s, Flood.CONTINUATION);
    }
  }

  @Test
  void aSingleHeadersFrameLargerThanTheHeaderListEndsTheConnection() {
    Http2Limits d = Http2Limits.defaults();
    Http2Limits bigFrames = new Http2Limits(d.maxConcurrentStreams(), d.maxHeaderListSize(), d.initialWindowSize(),
        65_536, d.window(), d.maxResets(), d.maxSettings(), d.maxPings(), d.maxEmptyData(), d.gracefulShutdown());
    try (EmbeddedH2Server s = new EmbeddedH2Server(bigFrames)) {
      s.start();
      s.feed(headers(1, H2Frames.END_STREAM | H2Frames.END_HEADERS,
          requestBlock("GET", "https", HOST, "/", "cookie", "c".repeat(17_000))));
      assertCalmedDown(s, Flood.CONTINUATION);
    }
  }

  @Test
  void aHeaderListALittleOverTheLimitIsAnswered431AndTheConnectionStays() {
    try (EmbeddedH2Server s = new EmbeddedH2Server(Http2Limits.defaults())) {
      s.start();
      // 500 small fields: 19,000 bytes as a header list (32 more for each), some 5,000 HPACK-encoded.
      List<String> fields = new ArrayList<>();
      for (int i = 0; i < 500; i++) {
        fields.add("x-" + (100 + i));
        fields.add("v");
      }
      byte[] block = requestBlock("GET", "https", HOST, "/", fields.toArray(String[]::new));
      assertThat(block.length).isLessThan(16_384);
      s.feed(concat(headerBlock(1, block, 1000, true)));
      s.feed(get(3, HOST, "/"));
      Map<Integer, List<io.netty.handler.codec.http2.Http2Headers>> lists = H2Frames.headerLists(s.received);
      assertThat(lists.get(1)).singleElement().satisfies(h -> assertThat(h.status()).hasToString("431"));
      assertThat(lists.get(3)).singleElement().satisfies(h -> assertThat(h.status()).hasToString("200"));
      assertThat(s.floods).isEmpty();
      assertThat(s.ch.isOpen()).isTrue();
    }
  }

  @Test
  void settingsFloodEndsTheConnection() {
    try (EmbeddedH2Server s = new EmbeddedH2Server(Http2Limits.defaults())) {
      s.start();
      int fed = s.feedUntilClosed(times(1000, i -> settings(H2Frames.SETTINGS_INITIAL_WINDOW_SIZE, 65_535 + i)));
      assertThat(fed).as("the client's first SETTINGS and its ACK count too").isEqualTo(99);
      assertCalmedDown(s, Flood.SETTINGS);
    }
  }

  @Test
  void pingFloodEndsTheConnection() {
    try (EmbeddedH2Server s = new EmbeddedH2Server(Http2Limits.defaults())) {
      s.start();
      int fed = s.feedUntilClosed(times(1000, i -> ping(i, false)));
      assertThat(fed).isEqualTo(101);
      assertThat(s.received).filteredOn(f -> f.is(H2Frames.PING)).hasSize(100);
      assertCalmedDown(s, Flood.PING);
    }
  }

  @Test
  void emptyDataFloodEndsTheConnectionPaddingOrNot() {
    try (EmbeddedH2Server s = new EmbeddedH2Server(Http2Limits.defaults())) {
      s.start();
      s.feed(headers(1, H2Frames.END_HEADERS, requestBlock("POST", "https", HOST, "/")));
      int fed = s.feedUntilClosed(
          times(1000, i -> i % 2 == 0 ? data(1, new byte[0], false) : paddedData(1, new byte[0], 7, false)));
      assertThat(fed).isEqualTo(101);
      assertCalmedDown(s, Flood.EMPTY_DATA);
    }
  }

  @Test
  void dataWithDataOrEndStreamIsNotEmpty() {
    try (EmbeddedH2Server s = new EmbeddedH2Server(limits(100, 100, 100, 2))) {
      s.start();
      s.feed(headers(1, H2Frames.END_HEADERS, requestBlock("POST", "https", HOST, "/")));
      s.feedUntilClosed(times(300, i -> i % 2 == 0 ? data(1, new byte[] {1}, false)
          : paddedData(1, new byte[] {2}, 200, false)));
      s.feed(data(1, new byte[0], true));
      assertThat(s.floods).isEmpty();
      assertThat(s.ch.isOpen()).isTrue();
      assertThat(H2Frames.headerLists(s.received)).containsKey(1);
    }
  }

  @Test
  void aPaddedEmptyFrameCountsOnceItsPadLengthArrives() {
    try (EmbeddedH2Server s = new EmbeddedH2Server(limits(100, 100, 100, 3))) {
      s.start();
      s.feed(headers(1, H2Frames.END_HEADERS, requestBlock("POST", "https", HOST, "/")));
      byte[] empty = paddedData(1, new byte[0], 5, false);
      byte[] flood = H2Frames.repeat(empty, 4);
      int fed = 0;
      while (s.ch.isOpen() && fed < flood.length) {
        s.feed(new byte[] {flood[fed++]});
      }
      assertThat(fed).as("three frames, then the fourth's header and pad length").isEqualTo(3 * empty.length + 10);
      assertCalmedDown(s, Flood.EMPTY_DATA);
    }
  }

  @Test
  void browserTrafficIsNoFlood() {
    try (EmbeddedH2Server s = new EmbeddedH2Server(Http2Limits.defaults())) {
      s.start();
      s.feed(concat(ping(1, false), ping(2, false), ping(3, false)));
      // A request whose header block comes in 20 frames.
      byte[] block = requestBlock("GET", "https", HOST, "/", "cookie", "k=" + "v".repeat(3800));
      List<byte[]> wide = headerBlock(1, block, 200, true);
      assertThat(wide).hasSize(20);
      s.feed(concat(wide));
      // A page: downloads answered and under way, requests waiting for their backend; then it navigates away.
      List<byte[]> page = new ArrayList<>();
      for (int i = 1; i <= 60; i++) {
        page.add(get(1 + 2 * i, HOST, "/open"));
      }
      for (int i = 61; i <= 99; i++) {
        page.add(getSlow(1 + 2 * i));
      }
      s.feed(concat(page));
      s.feed(concat(times(99, i -> rstStream(3 + 2 * i, CANCEL))));
      // And the next page, with a POST ending in an empty frame, and a settings change.
      s.feed(concat(headers(201, H2Frames.END_HEADERS, requestBlock("POST", "https", HOST, "/form")),
          data(201, "a=b".getBytes(java.nio.charset.StandardCharsets.US_ASCII), false), data(201, new byte[0], true),
          settings(H2Frames.SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20)));
      assertThat(s.floods).isEmpty();
      assertThat(s.goAways()).isEmpty();
      assertThat(s.ch.isOpen()).isTrue();
      Map<Integer, List<io.netty.handler.codec.http2.Http2Headers>> answered = H2Frames.headerLists(s.received);
      assertThat(answered).containsKeys(1, 3, 121, 201).doesNotContainKey(123);
      assertThat(s.received).filteredOn(f -> f.is(H2Frames.PING) && f.hasFlags(H2Frames.ACK)).hasSize(3);
    }
  }

  @Test
  void cancellingAnsweredStreamsIsNoRapidReset() {
    try (EmbeddedH2Server s = new EmbeddedH2Server(Http2Limits.defaults())) {
      s.start();
      for (int round = 0; round < 5; round++) {
        int first = 1 + round * 200;
        s.feed(concat(times(100, i -> get(first + 2 * i, HOST, "/open"))));
        s.feed(concat(times(100, i -> rstStream(first + 2 * i, CANCEL))));
      }
      assertThat(s.floods).isEmpty();
      assertThat(s.ch.isOpen()).isTrue();
    }
  }

  @Test
  void countsStartAfreshOnceTheWindowHasPassed() {
    try (EmbeddedH2Server s = new EmbeddedH2Server(Http2Limits.defaults())) {
      s.start();
      s.feed(concat(times(100, i -> ping(i, false))));
      s.advance(Duration.ofSeconds(10));
      s.feed(concat(times(100, i -> ping(i, false))));
      assertThat(s.floods).isEmpty();
      assertThat(s.ch.isOpen()).isTrue();
      s.advance(Duration.ofMillis(9_999));
      s.feed(ping(0, false));
      assertCalmedDown(s, Flood.PING);
    }
  }

  @Test
  void rapidResetCountsStartAfreshOnceTheWindowHasPassed() {
    try (EmbeddedH2Server s = new EmbeddedH2Server(limits(10, 100, 100, 100))) {
      s.start();
      int stream = 1;
      for (int window = 0; window < 5; window++) {
        for (int i = 0; i < 10; i++, stream += 2) {
          s.feed(concat(getSlow(stream), rstStream(stream, CANCEL)));
        }
        s.advance(Duration.ofSeconds(10));
      }
      assertThat(s.floods).isEmpty();
      for (int i = 0; i < 11; i++, stream += 2) {
        s.feed(concat(getSlow(stream), rstStream(stream, CANCEL)));
      }
      assertCalmedDown(s, Flood.RAPID_RESET);
    }
  }

  @Test
  void framesCutAnywhereAreCountedTheSame() {
    Random random = new Random(16);
    for (int trial = 0; trial < 20; trial++) {
      try (EmbeddedH2Server s = new EmbeddedH2Server(limits(100, 100, 30, 40))) {
        List<byte[]> frames = new ArrayList<>();
        frames.add(H2Frames.start());
        frames.add(headers(1, H2Frames.END_HEADERS, requestBlock("POST", "https", HOST, "/")));
        byte[] block = requestBlock("GET", "https", HOST, "/", "cookie", "k=" + "v".repeat(3000));
        frames.addAll(headerBlock(3, block, 300, true));
        for (int i = 0; i < 29; i++) {
          frames.add(ping(i, false));
          frames.add(data(1, new byte[] {1, 2, 3}, false));
          frames.add(paddedData(1, new byte[0], i % 4, false));
          frames.add(paddedData(1, new byte[] {9}, i % 3, false));
        }
        frames.add(data(1, new byte[0], false));
        Collections.addAll(frames, data(1, new byte[0], false), ping(99, false));
        byte[] all = concat(frames);
        int at = 0;
        while (at < all.length) {
          int n = Math.min(all.length - at, 1 + random.nextInt(random.nextBoolean() ? 3 : 64));
          s.feed(java.util.Arrays.copyOfRange(all, at, at + n));
          at += n;
        }
        assertThat(s.floods).as("trial %d", trial).isEmpty();
        assertThat(H2Frames.headerLists(s.received)).as("trial %d", trial).containsKey(3);
        s.feed(concat(ping(100, false), data(1, new byte[0], false)));
        assertCalmedDown(s, Flood.PING);
      }
    }
  }

  @Test
  void lbProvokedIntoResettingStreamsEndsTheConnection() {
    try (EmbeddedH2Server s = new EmbeddedH2Server(Http2Limits.defaults())) {
      s.start();
      List<byte[]> provocations = new ArrayList<>();
      for (int i = 0; i < 400; i++) {
        // A WINDOW_UPDATE of 0 on an open stream is a stream error: lb resets the stream with PROTOCOL_ERROR.
        provocations.add(concat(getSlow(2 * i + 1), H2Frames.windowUpdate(2 * i + 1, 0)));
      }
      int fed = s.feedUntilClosed(provocations);
      assertThat(fed).isLessThanOrEqualTo(201);
      assertCalmedDown(s, Flood.RESETS_SENT);
    }
  }

  @Test
  void aClientThatDoesNotReadIsCutOffWhenAcknowledgementsPileUp() {
    try (EmbeddedH2Server s = new EmbeddedH2Server(limits(100, 100, 1_000_000, 100), new StallingOutbound())) {
      s.feed(H2Frames.start());
      s.feed(H2Frames.repeat(ping(7, false), 10_001));
      assertThat(s.floods).containsExactly(Flood.CONTROL_BACKLOG);
      assertThat(s.ch.isOpen()).isFalse();
    }
  }

  @Test
  void aFailingListenerStillClosesTheConnection() {
    List<Flood> heard = new ArrayList<>();
    try (EmbeddedH2Server s = new EmbeddedH2Server(Http2Limits.defaults(), null, flood -> {
      heard.add(flood);
      throw new IllegalStateException("listener broke");
    })) {
      s.start();
      s.feed(H2Frames.repeat(ping(1, false), 101));
      assertThat(heard).containsExactly(Flood.PING);
      assertThat(s.goAways()).singleElement().satisfies(f -> assertThat(f.errorCode()).isEqualTo(ENHANCE_YOUR_CALM));
      assertThat(s.ch.isOpen()).isFalse();
    }
  }

  @Test
  void protocolErrorsAreNoFloods() {
    try (EmbeddedH2Server s = new EmbeddedH2Server(Http2Limits.defaults())) {
      s.start();
      s.feed(continuation(1, true, new byte[0]));
      assertThat(s.goAways()).singleElement()
          .satisfies(f -> assertThat(f.errorCode()).isEqualTo(H2Frames.PROTOCOL_ERROR));
      assertThat(s.floods).isEmpty();
      assertThat(s.ch.isOpen()).isFalse();
    }
  }
}
