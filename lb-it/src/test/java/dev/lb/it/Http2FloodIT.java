package dev.lb.it;

import static dev.lb.it.DirectMemory.mib;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.it.support.TestBackend;
import dev.lb.testing.H2Frames;
import dev.lb.testing.H2Frames.Frame;
import dev.lb.testing.TestCerts;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The known HTTP/2 floods sent to a real lb by a raw-frame client: each gets GOAWAY ENHANCE_YOUR_CALM within a bounded
 * number of frames, is counted by kind, leaves Netty's direct memory where it was, and leaves lb serving others.
 * Also: malformed streams are reset without ending the connection; a drain and the idle timeout end a connection
 * with a graceful GOAWAY.
 */
class Http2FloodIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  @TempDir Path dir;
  private TestBackend backend;

  @BeforeEach
  void setUp() {
    backend = TestBackend.start("b1");
  }

  @AfterEach
  void tearDown() {
    backend.close();
  }

  private Lb.Builder h2c() {
    return Lb.builder().backends(backend).set("listen.h2c", "true");
  }

  private static H2Frames.Client open(int port) throws Exception {
    H2Frames.Client c = H2Frames.connect("127.0.0.1", port, TIMEOUT);
    c.writeRaw(H2Frames.preface());
    c.write(H2Frames.settings());
    c.write(H2Frames.settingsAck());
    return c;
  }

  private static boolean answered(List<Frame> frames, int stream) {
    return frames.stream().anyMatch(f -> f.streamId() == stream && f.hasFlags(H2Frames.END_STREAM)
        && (f.is(H2Frames.DATA) || f.is(H2Frames.HEADERS)));
  }

  private static String status(List<Frame> frames, int stream) {
    return H2Frames.headerLists(frames).get(stream).get(0).status().toString();
  }

  /** One flood: the frames the client keeps sending after the preface, built from a counter. */
  private record Kind(String key, int limit, Function<Integer, List<byte[]>> frames) {}

  @Test
  void everyFloodIsCutOffCountedAndLeavesMemoryFlat() throws Exception {
    byte[] slowGet = H2Frames.requestBlock("GET", "http", "lb.test", "/slow?ms=2000");
    byte[] post = H2Frames.requestBlock("POST", "http", "lb.test", "/sha256");
    List<Kind> kinds = List.of(
        new Kind("rapid_reset", 100, i -> List.of(H2Frames.headers(2 * i + 1,
            H2Frames.END_STREAM | H2Frames.END_HEADERS, slowGet), H2Frames.rstStream(2 * i + 1, H2Frames.CANCEL))),
        new Kind("continuation", 32, i -> i == 0
            ? List.of(H2Frames.headers(1, H2Frames.END_STREAM, slowGet))
            : List.of(H2Frames.continuation(1, false, new byte[0]))),
        new Kind("settings", 100, i -> List.of(H2Frames.settings())),
        new Kind("ping", 100, i -> List.of(H2Frames.ping(i, false))),
        new Kind("empty_data", 100, i -> i == 0
            ? List.of(H2Frames.headers(1, H2Frames.END_HEADERS, post))
            : List.of(H2Frames.data(1, new byte[0], false))));
    try (Lb lb = h2c().start()) {
      // Warm up: the first connections allocate what every later one reuses.
      for (int i = 0; i < 3; i++) {
        try (H2Frames.Client c = open(lb.port())) {
          c.write(H2Frames.get(1, "lb.test", "/"));
          c.awaitFrames(f -> answered(f, 1), TIMEOUT);
        }
      }
      long baseline = DirectMemory.used();
      for (int round = 0; round < 3; round++) {
        for (Kind kind : kinds) {
          try (H2Frames.Client c = open(lb.port())) {
            int sent = 0;
            for (int i = 0; i < 200_000; i++) {
              List<byte[]> next = kind.frames().apply(i);
              if (c.writeAll(next) < next.size()) {
                break;
              }
              sent++;
            }
            H2Frames.Result r = c.awaitGoAwayOrEof(TIMEOUT);
            assertThat(r.goAway()).as("%s: %s", kind.key(), r.frames()).hasValueSatisfying(g ->
                assertThat(g.errorCode()).isEqualTo(H2Frames.ENHANCE_YOUR_CALM));
            assertThat(sent).as("%s: rounds of frames lb took before GOAWAY", kind.key())
                .isGreaterThanOrEqualTo(kind.limit()).isLessThan(200_000);
            assertThat(c.awaitEof(TIMEOUT).closed()).isTrue();
          }
        }
      }
      for (Kind kind : kinds) {
        assertThat(TlsClients.metric(lb, "lb_http2_floods_total{kind=\"" + kind.key() + "\"}")).as(kind.key()).isEqualTo(3);
      }
      // Still serving.
      try (H2Frames.Client c = open(lb.port())) {
        c.write(H2Frames.get(1, "lb.test", "/"));
        assertThat(status(c.awaitFrames(f -> answered(f, 1), TIMEOUT), 1)).isEqualTo("200");
      }
      long after = DirectMemory.used();
      System.out.printf("15 floods: direct memory %s before, %s after%n", mib(baseline), mib(after));
      assertThat(after - baseline).as("direct memory left behind by 15 floods").isLessThan(4L << 20);
    }
  }

  @Test
  void aFloodOverTlsIsCutOffToo() throws Exception {
    TestCerts.Ca ca = TestCerts.newCa("flood CA");
    Path cert = dir.resolve("c.pem");
    Path key = dir.resolve("k.pem");
    ca.issue("localhost").write(cert, key);
    try (Lb lb = Lb.builder().backends(backend)
        .set("listen.tls", "{ cert_file: \"" + cert + "\", key_file: \"" + key + "\" }").start();
        H2Frames.Client c = H2Frames.connectTls("localhost", lb.port(), TlsClients.trusting(ca), TIMEOUT)) {
      assertThat(c.applicationProtocol()).isEqualTo("h2");
      c.writeRaw(H2Frames.preface());
      c.write(H2Frames.settings());
      c.write(H2Frames.get(1, "localhost", "/"));
      assertThat(status(c.awaitFrames(f -> answered(f, 1), TIMEOUT), 1)).isEqualTo("200");
      for (int i = 0; i < 100_000 && c.write(H2Frames.ping(i, false)); i++) {
        // until lb has had enough
      }
      H2Frames.Result r = c.awaitGoAwayOrEof(TIMEOUT);
      assertThat(r.goAway()).hasValueSatisfying(g -> assertThat(g.errorCode()).isEqualTo(H2Frames.ENHANCE_YOUR_CALM));
      assertThat(TlsClients.metric(lb, "lb_http2_floods_total{kind=\"ping\"}")).isEqualTo(1);
    }
  }

  @Test
  void malformedStreamsAreResetAndTheConnectionGoesOn() throws Exception {
    try (Lb lb = h2c().start(); H2Frames.Client c = open(lb.port())) {
      // An upper-case field name.
      java.io.ByteArrayOutputStream upper = new java.io.ByteArrayOutputStream();
      upper.writeBytes(H2Frames.requestBlock("GET", "http", "lb.test", "/"));
      H2Frames.literal(upper, "X-Upper", "1");
      c.write(H2Frames.headers(1, H2Frames.END_STREAM | H2Frames.END_HEADERS, upper.toByteArray()));
      // A connection-specific field.
      c.write(H2Frames.headers(3, H2Frames.END_STREAM | H2Frames.END_HEADERS,
          H2Frames.requestBlock("GET", "http", "lb.test", "/", "connection", "close")));
      // More body than content-length says.
      c.write(H2Frames.headers(5, H2Frames.END_HEADERS,
          H2Frames.requestBlock("POST", "http", "lb.test", "/sha256", "content-length", "3")));
      c.write(H2Frames.data(5, "abcdef".getBytes(StandardCharsets.US_ASCII), true));
      // No :path.
      c.write(H2Frames.headers(7, H2Frames.END_STREAM | H2Frames.END_HEADERS, noPath()));
      c.write(H2Frames.get(9, "lb.test", "/"));
      List<Frame> seen = c.awaitFrames(f -> answered(f, 9) && resets(f).size() >= 4, TIMEOUT);
      assertThat(resets(seen)).as("%s", seen).containsOnlyKeys(1, 3, 5, 7);
      assertThat(resets(seen)).as("%s", seen).containsEntry(1, H2Frames.PROTOCOL_ERROR)
          .containsEntry(3, H2Frames.PROTOCOL_ERROR).containsEntry(7, H2Frames.PROTOCOL_ERROR);
      assertThat(status(seen, 9)).isEqualTo("200");
      assertThat(seen).noneMatch(f -> f.is(H2Frames.GOAWAY));
    }
  }

  private static byte[] noPath() {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    H2Frames.indexed(out, 2);   // :method GET
    H2Frames.indexed(out, 6);   // :scheme http
    H2Frames.literal(out, 1, "lb.test");   // :authority
    return out.toByteArray();
  }

  private static java.util.Map<Integer, Long> resets(List<Frame> frames) {
    java.util.Map<Integer, Long> out = new java.util.TreeMap<>();
    for (Frame f : frames) {
      if (f.is(H2Frames.RST_STREAM)) {
        out.put(f.streamId(), f.errorCode());
      }
    }
    return out;
  }

  @Test
  void aDrainSendsGoAwayAndLetsTheStreamInFlightFinish() throws Exception {
    try (Lb lb = h2c().set("shutdown.grace_period", "20s").start(); H2Frames.Client c = open(lb.port())) {
      c.write(H2Frames.headers(1, H2Frames.END_STREAM | H2Frames.END_HEADERS,
          H2Frames.requestBlock("GET", "http", "lb.test", "/slow?ms=1500")));
      org.awaitility.Awaitility.await().atMost(TIMEOUT).until(() -> backend.requests() >= 1);
      lb.server().proxy().startDraining();
      List<Frame> seen = c.awaitFrames(f -> answered(f, 1), TIMEOUT);
      Frame goAway = seen.stream().filter(f -> f.is(H2Frames.GOAWAY)).findFirst().orElseThrow();
      assertThat(goAway.errorCode()).isEqualTo(H2Frames.NO_ERROR);
      assertThat(goAway.lastStreamId()).isEqualTo(1);
      assertThat(seen.indexOf(goAway)).as("GOAWAY before the answer").isLessThan(firstOf(seen, 1));
      assertThat(status(seen, 1)).isEqualTo("200");
      assertThat(c.awaitEof(TIMEOUT).closed()).isTrue();
    }
  }

  @Test
  void anIdleConnectionIsClosedWithGoAway() throws Exception {
    try (Lb lb = h2c().set("proxy.idle_timeout", "1s").start(); H2Frames.Client c = open(lb.port())) {
      c.write(H2Frames.get(1, "lb.test", "/"));
      assertThat(status(c.awaitFrames(f -> answered(f, 1), TIMEOUT), 1)).isEqualTo("200");
      H2Frames.Result r = c.awaitEof(TIMEOUT);
      assertThat(r.goAway()).hasValueSatisfying(g -> {
        assertThat(g.errorCode()).isEqualTo(H2Frames.NO_ERROR);
        assertThat(g.lastStreamId()).isEqualTo(1);
      });
      assertThat(r.closed()).isTrue();
    }
  }

  private static int firstOf(List<Frame> frames, int stream) {
    for (int i = 0; i < frames.size(); i++) {
      if (frames.get(i).streamId() == stream) {
        return i;
      }
    }
    return -1;
  }


}
