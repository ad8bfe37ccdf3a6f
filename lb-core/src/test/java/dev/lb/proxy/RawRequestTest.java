package dev.lb.proxy;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.backend.Backend;
import dev.lb.config.BackendConfig;
import dev.lb.log.AccessLog;
import dev.lb.log.AccessLogMessage;
import dev.lb.pool.EmbeddedPool;
import dev.lb.testing.Outbound;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Forwarding a request head as its bytes gives the backend and the client exactly what decoding it gives: each case
 * runs through the whole client pipeline twice, once with the client codec passing plain heads on as bytes and once
 * decoding every head, and the backend must receive the same requests, the client the same answers, the access log
 * the same entries, and the client connection must end the same way. The cases cover heads the scanner takes, heads
 * it leaves to the decoder (some of which the guard refuses), heads split anywhere, and pipelines that mix both.
 */
class RawRequestTest {
  private static final String RESPONSE = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";

  static Stream<Arguments> cases() {
    List<String> requests = List.of(
        // Taken as bytes.
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
        "GET /api/v1/items?id=7&x=%2F HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n",
        "HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n",
        "DELETE /d HTTP/1.1\r\nhost:  a.example \r\nConnection: keep-alive\r\nKeep-Alive: 5\r\nTE: trailers\r\n"
            + "Proxy-Connection: x\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\nX-Other:\tv \r\n\r\n",
        "GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        "GET /10 HTTP/1.0\r\nHost: a\r\n\r\n",
        "GET /10k HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n",
        "OPTIONS /o HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n",
        "POST /p HTTP/1.1\r\nHost: a\r\n\r\n",
        // Left to the decoder (some refused by the guard).
        "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
        "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\nX-Request-Id: given-1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Hop\r\nX-Hop: 1\r\n\r\n",
        "GET http://a/abs HTTP/1.1\r\nHost: a\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
        "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n",
        "\r\nGET /after-empty-line HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\nHost: a\n\n");
    String plain = requests.get(0);
    List<Arguments> all = new ArrayList<>();
    for (String request : requests) {
      all.add(Arguments.of(List.of(request)));
      all.add(Arguments.of(List.of(request.substring(0, 1), request.substring(1))));
      all.add(Arguments.of(List.of(request.substring(0, request.length() / 2),
          request.substring(request.length() / 2))));
      all.add(Arguments.of(List.of(request.substring(0, request.length() - 1),
          request.substring(request.length() - 1))));
      all.add(Arguments.of(List.of(request + plain)));
      all.add(Arguments.of(List.of(plain + request + plain)));
      all.add(Arguments.of(List.of(plain + request.substring(0, 5), request.substring(5) + plain)));
    }
    return all.stream();
  }

  @ParameterizedTest
  @MethodSource("cases")
  void backendAndClientSeeTheSameEitherWay(List<String> chunks) {
    Outcome raw = run(true, chunks);
    Outcome decoded = run(false, chunks);
    assertThat(raw.upstream).isEqualTo(decoded.upstream);
    assertThat(raw.client).isEqualTo(decoded.client);
    assertThat(raw.log).isEqualTo(decoded.log);
    assertThat(raw.clientOpen).isEqualTo(decoded.clientOpen);
  }

  /**
   * The bytes with the random request ids replaced, and the optional whitespace around field values as the decoder
   * leaves it (one SP after the colon, none at the end): the byte path passes the client's own, which means the same
   * (RFC 9110 5.5).
   */
  private static String normalized(String bytes) {
    return bytes.replaceAll("[0-9a-f]{32}", "<id>")
        .replaceAll("(?m)^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*", "$1: ")
        .replaceAll("[ \t]+\r\n", "\r\n");
  }

  private record Outcome(String upstream, String client, boolean clientOpen, String log) {}

  private static Outcome run(boolean rawRequests, List<String> chunks) {
    Backend backend = new Backend(new BackendConfig("http://127.0.0.1:1", "127.0.0.1", 1, 1));
    EmbeddedPool pool = new EmbeddedPool();
    List<AccessLogMessage> logged = new ArrayList<>();
    AccessLog recording = new RecordingAccessLog(logged);
    ProxyContext context = new ProxyContext(TestSettings.settings(0), TestSettings.routing(backend), recording);
    EmbeddedChannel client = new EmbeddedChannel();
    client.freezeTime();
    client.pipeline()
        .addLast(HandlerNames.SERVER_CODEC, new FrontendCodec(new HttpDecoderConfig(), rawRequests))
        .addLast(HandlerNames.GUARD, new RequestGuard(context.settings()))
        .addLast(HandlerNames.PROXY, new ProxyHandler(context, pool));
    List<ByteBuf> sent = new ArrayList<>();
    StringBuilder upstream = new StringBuilder();
    StringBuilder toClient = new StringBuilder();
    try {
      for (String chunk : chunks) {
        ByteBuf in = Unpooled.copiedBuffer(chunk, ISO_8859_1);
        sent.add(in);
        if (client.isOpen()) {
          client.writeInbound(in);
        } else {
          in.release();
        }
        answerBackends(pool, upstream, sent);
        toClient.append(Outbound.drain(client));
      }
      String log = logged.stream()
          .map(m -> m.getFormattedMessage().replaceAll("[\\d.]+ms", "")).toList().toString();
      return new Outcome(normalized(upstream.toString()), normalized(toClient.toString()), client.isOpen(),
          normalized(log));
    } finally {
      client.finishAndReleaseAll();
      pool.finishAll();
      for (ByteBuf buf : sent) {
        assertThat(buf.refCnt()).as("every buffer written in is released (raw requests: %s)", rawRequests).isZero();
      }
      assertThat(backend.activeRequests()).isZero();
    }
  }

  /** Answers every request the backends received, until none is waiting (a pipeline goes one at a time). */
  private static void answerBackends(EmbeddedPool pool, StringBuilder upstream, List<ByteBuf> sent) {
    for (boolean more = true; more; ) {
      more = false;
      for (EmbeddedChannel b : new ArrayList<>(pool.opened())) {
        String got = Outbound.drain(b);
        if (got.isEmpty() || !b.isOpen()) {
          continue;
        }
        upstream.append(got);
        ByteBuf response = Unpooled.copiedBuffer(RESPONSE, ISO_8859_1);
        sent.add(response);
        b.writeInbound(response);
        more = true;
      }
    }
  }
}
