package dev.lb.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.backend.Backend;
import dev.lb.config.BackendConfig;
import dev.lb.log.AccessLog;
import dev.lb.pool.EmbeddedPool;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Connections of one event loop share their idle exchanges: an exchange goes from a connection that finished its
 * request to the next connection with one, and nothing of the first connection's request reaches the second's.
 */
class SparesTest {
  private final Backend backend = new Backend(new BackendConfig("http://127.0.0.1:1", "127.0.0.1", 1, 1));
  private final EmbeddedPool pool = new EmbeddedPool();
  private final ProxyContext context =
      new ProxyContext(TestSettings.settings(0), TestSettings.routing(backend), AccessLog.DISABLED);
  private final Spares spares = new Spares(context, pool);
  private final List<ByteBuf> sent = new ArrayList<>();
  private final List<EmbeddedChannel> clients = new ArrayList<>();

  @AfterEach
  void tearDown() {
    for (EmbeddedChannel c : clients) {
      c.finishAndReleaseAll();
    }
    pool.finishAll();
    for (ByteBuf b : sent) {
      assertThat(b.refCnt()).as("every buffer written in is released").isZero();
    }
    assertThat(backend.activeRequests()).isZero();
  }

  private EmbeddedChannel client() {
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.freezeTime();
    ch.pipeline()
        .addLast(HandlerNames.SERVER_CODEC, new FrontendCodec(new HttpDecoderConfig()))
        .addLast(HandlerNames.GUARD, new RequestGuard(context.settings()))
        .addLast(HandlerNames.PROXY, new ProxyHandler(spares));
    clients.add(ch);
    return ch;
  }

  private void write(EmbeddedChannel ch, String raw) {
    ByteBuf b = Unpooled.copiedBuffer(raw, US_ASCII);
    sent.add(b);
    ch.writeInbound(b);
  }

  private static String drain(EmbeddedChannel ch) {
    return dev.lb.testing.Outbound.drain(ch);
  }

  private static String get(String path) {
    return "GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n";
  }

  private static String ok(String body) {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
  }

  @Test
  void anIdleConnectionsExchangeServesTheNextConnectionWithARequest() {
    EmbeddedChannel a = client();
    EmbeddedChannel b = client();
    write(a, get("/a1"));
    EmbeddedChannel toBackend = pool.last();
    assertThat(drain(toBackend)).startsWith("GET /a1 ");
    write(toBackend, ok("a1"));
    assertThat(drain(a)).endsWith("\r\n\r\na1");

    // b's request takes the exchange a gave back; a's next request, while b's is served, takes a new one.
    write(b, get("/b1"));
    assertThat(drain(toBackend)).startsWith("GET /b1 ");
    write(a, get("/a2"));
    EmbeddedChannel second = pool.last();
    assertThat(second).isNotSameAs(toBackend);
    assertThat(drain(second)).startsWith("GET /a2 ");
    write(second, ok("a2"));
    write(toBackend, ok("b1"));
    assertThat(drain(a)).endsWith("\r\n\r\na2");
    assertThat(drain(b)).endsWith("\r\n\r\nb1");
    assertThat(pool.idleCount(backend)).isEqualTo(2);
  }

  @Test
  void aConnectCompletingForAClosedConnectionDoesNotReachTheNextOneUsingItsExchange() {
    EmbeddedChannel a = client();
    pool.deferConnects();
    write(a, get("/a1"));
    EmbeddedChannel late = pool.last();
    io.netty.channel.ChannelPromise aConnect = pool.takePendingConnect();
    a.close();   // a's exchange ends with its connect still pending, and goes back
    pool.stopDeferringConnects();

    EmbeddedChannel b = client();
    write(b, get("/b1"));   // takes a's exchange
    EmbeddedChannel forB = pool.last();
    assertThat(forB).isNotSameAs(late);
    aConnect.setSuccess();  // a's connect completes now: the connection goes to the pool, unused
    assertThat(drain(late)).as("a's request never went out").isEmpty();
    assertThat(drain(forB)).startsWith("GET /b1 ");
    write(forB, ok("b1"));
    assertThat(drain(b)).endsWith("\r\n\r\nb1");
    assertThat(pool.idleCount(backend)).isEqualTo(2);
  }
}
