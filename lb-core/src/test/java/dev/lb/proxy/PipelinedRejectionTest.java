package dev.lb.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.backend.Backend;
import dev.lb.config.BackendConfig;
import dev.lb.pool.EmbeddedPool;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A request answered without its body (a 429, or a 502 when no backend can be reached) while it waited behind an
 * earlier pipelined request: its queued body is dropped and the requests after it are served. Found by
 * {@link FrontendFuzzTest}: the body stayed queued, nothing more was read, and the connection hung.
 */
class PipelinedRejectionTest {
  private final Backend backend = new Backend(new BackendConfig("http://127.0.0.1:8081", "127.0.0.1", 8081, 1));
  private final EmbeddedPool pool = new EmbeddedPool();
  private final List<ByteBuf> sent = new ArrayList<>();
  private EmbeddedChannel client;
  private ProxyContext context;

  private EmbeddedChannel client(boolean rejectPosts) {
    context = TestSettings.context(backend);
    EmbeddedChannel ch = EmbeddedClients.open(context, pool);
    if (rejectPosts) {
      // As the rate limiter does: the refused request goes on as a RejectedRequest that keeps the connection.
      ch.pipeline().addBefore(HandlerNames.PROXY, "reject-posts", new ChannelInboundHandlerAdapter() {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
          if (msg instanceof HttpRequest r && r.method().name().equals("POST")) {
            msg = new RejectedRequest(r, HttpResponseStatus.TOO_MANY_REQUESTS, false);
          }
          ctx.fireChannelRead(msg);
        }
      });
    }
    client = ch;
    return ch;
  }

  @AfterEach
  void tearDown() {
    client.finishAndReleaseAll();
    pool.finishAll();
    for (ByteBuf b : sent) {
      assertThat(b.refCnt()).isZero();
    }
    assertThat(backend.activeRequests()).isZero();
  }

  private void write(EmbeddedChannel ch, String raw) {
    ByteBuf b = Unpooled.copiedBuffer(raw, US_ASCII);
    sent.add(b);
    ch.writeInbound(b);
  }

  private static String drain(EmbeddedChannel ch) {
    return dev.lb.testing.Outbound.drain(ch);
  }

  private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";

  @Test
  void aRejectedRequestWaitingBehindAnotherHasItsBodyDroppedAndTheNextRequestIsServed() {
    client(true);
    write(client, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
        + "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok"
        + "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n");
    EmbeddedChannel first = pool.last();
    assertThat(drain(first)).startsWith("GET /1 ");
    write(first, OK);
    assertThat(drain(client)).startsWith("HTTP/1.1 200 OK").contains("HTTP/1.1 429 Too Many Requests")
        .doesNotContain("connection: close");
    assertThat(drain(pool.last())).as("the request after the rejected one reaches the backend").startsWith("GET /3 ");
    write(pool.last(), OK);
    assertThat(drain(client)).startsWith("HTTP/1.1 200 OK");
    assertThat(client.config().isAutoRead()).isTrue();
  }

  @Test
  void aRequestNoBackendTakesWhileItWaitedHasItsBodyDroppedAndTheNextRequestIsServed() {
    client(false);
    write(client, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
        + "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok"
        + "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n");
    EmbeddedChannel first = pool.last();
    drain(first);
    Backend drained = new Backend(new BackendConfig("http://127.0.0.1:9000", "127.0.0.1", 9000, 0));
    context.routing(TestSettings.routing(drained));
    write(first, OK);
    String answers = drain(client);
    assertThat(answers).startsWith("HTTP/1.1 200 OK").contains("HTTP/1.1 503 Service Unavailable");
    assertThat(answers.split("HTTP/1.1 503", -1)).as("the POST and the GET after it are both answered").hasSize(3);
    assertThat(client.config().isAutoRead()).isTrue();
  }
}
