package dev.lb.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.backend.Backend;
import dev.lb.config.BackendConfig;
import dev.lb.pool.EmbeddedPool;
import dev.lb.testing.Outbound;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Requests whose body framing is malformed or ambiguous are answered with the contract's 400 before the connection
 * closes, and never reach a backend; framing that is valid but oddly spelled goes on in one plain spelling. Both
 * cases were found by {@link FrontendFuzzTest}: a Content-Length that is not a number was read as one when answering,
 * which threw and cut the connection without an answer (logging a stack trace each time); a Transfer-Encoding such
 * as {@code chunked,} was forwarded verbatim, which a backend that matches the value exactly would read as a
 * body-less request (request smuggling): it now goes on as {@code chunked}.
 */
class MalformedFramingTest {
  private final Backend backend = new Backend(new BackendConfig("http://127.0.0.1:8081", "127.0.0.1", 8081, 1));
  private final EmbeddedPool pool = new EmbeddedPool();
  private EmbeddedChannel client;
  private ByteBuf request;

  @AfterEach
  void tearDown() {
    client.finishAndReleaseAll();
    pool.finishAll();
    assertThat(request.refCnt()).isZero();
  }

  private void client() {
    ProxyContext context = TestSettings.context(backend);
    client = EmbeddedClients.open(context, pool);
  }

  private void assertRefused(String framing, String body) {
    client();
    request = Unpooled.copiedBuffer("POST /p HTTP/1.1\r\nHost: a\r\n" + framing + "\r\n\r\n" + body, US_ASCII);
    client.writeInbound(request);
    assertThat(Outbound.drain(client)).startsWith("HTTP/1.1 400 Bad Request\r\n").contains("connection: close")
        .endsWith("{\"code\":400,\"message\":\"Bad request\"}");
    assertThat(client.isOpen()).isFalse();
    assertThat(pool.connectedTo()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"3x", "-1", "99999999999999999999", "1, 2"})
  void aContentLengthThatIsNotOneNumberIsRefused(String contentLength) {
    assertRefused("Content-Length: " + contentLength, "abc");
  }

  @ParameterizedTest
  @ValueSource(strings = {"chunked, chunked", "chunked\r\nTransfer-Encoding: chunked", "chunked, gzip"})
  void aTransferEncodingWithChunkedTwiceOrNotLastIsRefused(String transferEncoding) {
    assertRefused("Transfer-Encoding: " + transferEncoding, "3\r\nabc\r\n0\r\n\r\n");
  }

  /** Empty list elements are dropped (RFC 9110 5.6.1), so no backend can read {@code chunked,} differently. */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {"chunked,|chunked", ",chunked|chunked", "ChUnKeD|chunked",
      "gzip, chunked|gzip, chunked"})
  void aTransferEncodingGoesOnInOnePlainSpelling(String sent, String forwarded) {
    client();
    request = Unpooled.copiedBuffer("POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " + sent
        + "\r\n\r\n3\r\nabc\r\n0\r\n\r\n", US_ASCII);
    client.writeInbound(request);
    assertThat(pool.connectedTo()).hasSize(1);
    String upstream = Outbound.drain(pool.last());
    String head = upstream.substring(0, upstream.indexOf("\r\n\r\n") + 2).toLowerCase(java.util.Locale.ROOT);
    assertThat(head).contains("\r\ntransfer-encoding: " + forwarded + "\r\n").doesNotContain("content-length");
    assertThat(head.split("transfer-encoding", -1)).as("one Transfer-Encoding field").hasSize(2);
  }
}
