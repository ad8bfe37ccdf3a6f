package dev.lb.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.backend.Backend;
import dev.lb.config.BackendConfig;
import dev.lb.pool.EmbeddedPool;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * lb sends its own HTTP version upstream (RFC 9110 section 2.5), whatever HTTP/1.x spelling the client used: a
 * request line with a version lb does not speak is never passed on verbatim. Found by {@link FrontendFuzzTest}.
 */
class ProtocolVersionTest {
  private final Backend backend = new Backend(new BackendConfig("http://127.0.0.1:8081", "127.0.0.1", 8081, 1));
  private final EmbeddedPool pool = new EmbeddedPool();
  private final List<ByteBuf> sent = new ArrayList<>();
  private EmbeddedChannel client;

  @AfterEach
  void tearDown() {
    client.finishAndReleaseAll();
    pool.finishAll();
    for (ByteBuf b : sent) {
      assertThat(b.refCnt()).isZero();
    }
  }

  private static String drain(EmbeddedChannel ch) {
    return dev.lb.testing.Outbound.drain(ch);
  }

  @ParameterizedTest
  @CsvSource({"HTTP/1.2, HTTP/1.1", "HTTP/1.9, HTTP/1.1", "HTTP/1.1, HTTP/1.1", "HTTP/1.0, HTTP/1.0"})
  void theRequestGoesUpstreamInLbsOwnVersion(String sentVersion, String forwardedVersion) {
    ProxyContext context = TestSettings.context(backend);
    client = EmbeddedClients.open(context, pool);
    ByteBuf request = Unpooled.copiedBuffer("GET /v HTTP/1.1\r\nHost: a\r\n\r\n".replace("HTTP/1.1", sentVersion),
        US_ASCII);
    sent.add(request);
    client.writeInbound(request);
    String upstream = drain(pool.last());
    assertThat(upstream).startsWith("GET /v " + forwardedVersion + "\r\n");
    ByteBuf response = Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", US_ASCII);
    sent.add(response);
    pool.last().writeInbound(response);
    assertThat(drain(client)).startsWith("HTTP/1.1 200 OK\r\n");
  }
}
