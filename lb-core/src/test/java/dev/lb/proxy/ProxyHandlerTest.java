package dev.lb.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.backend.Backend;
import dev.lb.config.BackendConfig;
import dev.lb.log.AccessLog;
import dev.lb.log.AccessLogMessage;
import dev.lb.pool.EmbeddedPool;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The balancing handler between an embedded client connection (with the real codec and guard) and embedded backend
 * connections (with the real client codec), so every byte each side sees is checked.
 */
class ProxyHandlerTest {
  private final Backend b1 = backend(8081, 1);
  private final Backend b2 = backend(8082, 1);
  private final Backend b3 = backend(8083, 1);
  private final List<AccessLogMessage> logged = new ArrayList<>();
  private EmbeddedPool pool;
  private ProxyContext context;
  private EmbeddedChannel client;
  private final List<ByteBuf> sent = new ArrayList<>();

  private static Backend backend(int port, int weight) {
    return new Backend(new BackendConfig("http://127.0.0.1:" + port, "127.0.0.1", port, weight));
  }

  @BeforeEach
  void setUp() {
    pool = new EmbeddedPool();
    AccessLog recording = new RecordingAccessLog(logged);
    context = new ProxyContext(TestSettings.settings(0), TestSettings.routing(b1, b2, b3), recording);
    client = newClient();
  }

  private EmbeddedChannel newClient() {
    return EmbeddedClients.open(context, pool);
  }

  @AfterEach
  void tearDown() {
    client.finishAndReleaseAll();
    pool.finishAll();
    for (ByteBuf b : sent) {
      assertThat(b.refCnt()).as("every buffer written in is released").isZero();
    }
    assertThat(b1.activeRequests() + b2.activeRequests() + b3.activeRequests()).isZero();
  }

  private void send(String raw) {
    ByteBuf b = Unpooled.copiedBuffer(raw, US_ASCII);
    sent.add(b);
    client.writeInbound(b);
  }

  private void respond(EmbeddedChannel backend, String raw) {
    ByteBuf b = Unpooled.copiedBuffer(raw, US_ASCII);
    sent.add(b);
    backend.writeInbound(b);
  }

  private static String drain(EmbeddedChannel ch) {
    return dev.lb.testing.Outbound.drain(ch);
  }

  private void advance(long millis) {
    client.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
    client.runScheduledPendingTasks();
  }

  private static final String GET = "GET /a?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n";
  private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";

  @Test
  void forwardsTheRequestWithForwardingHeadersAndRelaysTheResponse() {
    send("GET /a?x=1 HTTP/1.1\r\nHost: example.com\r\nConnection: keep-alive, X-Secret\r\nX-Secret: s\r\n"
        + "Keep-Alive: 5\r\nTE: trailers\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n");
    EmbeddedChannel backend = pool.last();
    String request = drain(backend);
    assertThat(request).startsWith("GET /a?x=1 HTTP/1.1\r\n");
    assertThat(request).containsIgnoringCase("host: example.com\r\n")
        .containsIgnoringCase("x-forwarded-for: 10.0.0.1, embedded\r\n")
        .containsIgnoringCase("x-forwarded-proto: http\r\n")
        .containsIgnoringCase("x-forwarded-host: example.com\r\n")
        .containsIgnoringCase("x-request-id: ");
    assertThat(request.toLowerCase()).doesNotContain("x-secret").doesNotContain("keep-alive")
        .doesNotContain("te: trailers").doesNotContain("connection:");

    respond(backend, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nhi");
    String response = drain(client);
    assertThat(response).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nhi");
    assertThat(response.toLowerCase()).contains("x-request-id: ").doesNotContain("keep-alive");
    String id = request.toLowerCase().split("x-request-id: ")[1].split("\r\n")[0];
    assertThat(response.toLowerCase()).contains("x-request-id: " + id);
    assertThat(pool.idleCount(b1)).isOne();
    assertThat(client.isOpen()).isTrue();
    assertThat(logged).hasSize(1);
    assertThat(logged.get(0).get(AccessLogMessage.STATUS)).isEqualTo("200");
    assertThat(logged.get(0).get(AccessLogMessage.BACKEND)).isEqualTo("http://127.0.0.1:8081");
    assertThat(logged.get(0).get(AccessLogMessage.ERROR)).as("no error on a backend's answer").isNull();
  }

  @Test
  void keepsTheClientsRequestId() {
    send("GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: abc-123\r\n\r\n");
    assertThat(drain(pool.last()).toLowerCase()).contains("x-request-id: abc-123\r\n");
    respond(pool.last(), OK);
    assertThat(drain(client)).contains("x-request-id: abc-123\r\n");
  }

  @Test
  void takesBackendsInTurnAndReusesPooledConnections() {
    List<String> order = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      send(GET);
      EmbeddedChannel backend = null;
      for (EmbeddedChannel ch : pool.opened()) {
        if (ch.outboundMessages().size() > 0) {
          backend = ch;
        }
      }
      assertThat(backend).isNotNull();
      drain(backend);
      respond(backend, OK);
      assertThat(drain(client)).endsWith("hi");
    }
    for (AccessLogMessage m : logged) {
      order.add(m.get(AccessLogMessage.BACKEND));
    }
    assertThat(order).containsExactly(b1.url(), b2.url(), b3.url(), b1.url(), b2.url(), b3.url());
    assertThat(pool.opened()).hasSize(3);
  }

  @Test
  void aRefusedConnectionIsRetriedOnAnotherBackendForAnyMethod() {
    pool.refuse(b1);
    send("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc");
    assertThat(pool.connectedTo()).containsExactly(b1, b2);
    assertThat(drain(pool.last())).startsWith("POST /p HTTP/1.1\r\n").endsWith("\r\n\r\nabc");
    respond(pool.last(), OK);
    assertThat(drain(client)).startsWith("HTTP/1.1 200 OK");
    assertThat(logged.get(0).get(AccessLogMessage.ATTEMPTS)).isEqualTo("2");
  }

  @Test
  void whenEveryBackendRefusesTheAnswerIs502Json() {
    pool.refuse(b1);
    pool.refuse(b2);
    pool.refuse(b3);
    send(GET);
    assertThat(pool.connectedTo()).as("the second retry waits its backoff").containsExactly(b1, b2);
    assertThat(drain(client)).isEmpty();
    advance(250);
    String response = drain(client);
    assertThat(response).startsWith("HTTP/1.1 502 Bad Gateway\r\n")
        .contains("content-type: application/json\r\n")
        .endsWith("{\"code\":502,\"message\":\"Bad gateway\"}");
    assertThat(pool.connectedTo()).containsExactly(b1, b2, b3);
    assertThat(client.isOpen()).isTrue();
    assertThat(logged).singleElement().satisfies(m -> {
      assertThat(m.get(AccessLogMessage.ERROR)).isEqualTo("connection refused");
      assertThat(m.getFormattedMessage()).endsWith(" error=\"connection refused\"");
    });
  }

  @Test
  void retriesStopAtMaxRetries() {
    Backend b4 = backend(8084, 1);
    context.routing(TestSettings.routing(b1, b2, b3, b4));
    pool.refuse(b1);
    pool.refuse(b2);
    pool.refuse(b3);
    send(GET);
    advance(250);
    assertThat(drain(client)).startsWith("HTTP/1.1 502 ");
    assertThat(pool.connectedTo()).containsExactly(b1, b2, b3);
  }

  @Test
  void withNoBackendToTakeTrafficTheAnswerIs503AndTheConnectionStaysOpen() {
    Backend drained = backend(9000, 0);
    context.routing(TestSettings.routing(drained));
    send(GET);
    assertThat(drain(client)).startsWith("HTTP/1.1 503 Service Unavailable\r\n")
        .endsWith("{\"code\":503,\"message\":\"No healthy backends\"}");
    assertThat(pool.connectedTo()).isEmpty();
    assertThat(client.isOpen()).isTrue();
    send(GET);
    assertThat(drain(client)).startsWith("HTTP/1.1 503 ");
  }

  @Test
  void anIdempotentRequestIsRetriedWhenTheBackendClosesBeforeAnswering() {
    send(GET);
    EmbeddedChannel first = pool.last();
    drain(first);
    first.close();
    EmbeddedChannel second = pool.last();
    assertThat(second).isNotSameAs(first);
    assertThat(drain(second)).startsWith("GET /a?x=1 HTTP/1.1\r\n");
    respond(second, OK);
    assertThat(drain(client)).startsWith("HTTP/1.1 200 OK");
  }

  @Test
  void aPostIsNotRetriedOnceSent() {
    send("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc");
    EmbeddedChannel first = pool.last();
    drain(first);
    first.close();
    assertThat(pool.opened()).hasSize(1);
    assertThat(drain(client)).startsWith("HTTP/1.1 502 Bad Gateway");
  }

  @Test
  void aStalledBackendGives504AfterTheResponseTimeout() {
    send(GET);
    EmbeddedChannel backend = pool.last();
    drain(backend);
    advance(TestSettings.RESPONSE_TIMEOUT_MS - 1);
    assertThat(drain(client)).isEmpty();
    advance(1);
    assertThat(drain(client)).startsWith("HTTP/1.1 504 Gateway Timeout\r\n")
        .endsWith("{\"code\":504,\"message\":\"Gateway timeout\"}");
    assertThat(backend.isOpen()).isFalse();
    assertThat(client.isOpen()).isTrue();
  }

  @Test
  void aCloseDelimitedResponseIsReframedAsChunkedForHttp11() {
    send(GET);
    EmbeddedChannel backend = pool.last();
    drain(backend);
    respond(backend, "HTTP/1.0 200 OK\r\n\r\nhello ");
    respond(backend, "world");
    backend.close();
    String response = drain(client);
    assertThat(response).startsWith("HTTP/1.1 200 OK\r\n").containsIgnoringCase("transfer-encoding: chunked")
        .contains("6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n");
    assertThat(client.isOpen()).isTrue();
    assertThat(pool.offered()).isZero();
  }

  @Test
  void anHttp10ClientGetsAChunkedResponseUnchunkedAndTheConnectionCloses() {
    send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EmbeddedChannel backend = pool.last();
    assertThat(drain(backend)).startsWith("GET / HTTP/1.0\r\n");
    respond(backend, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    String response = drain(client);
    assertThat(response.toLowerCase()).doesNotContain("transfer-encoding").contains("connection: close");
    assertThat(response).endsWith("\r\n\r\nabc");
    assertThat(client.isOpen()).isFalse();
    assertThat(pool.idleCount(b1)).isOne();
  }

  @Test
  void anHttp10KeepAliveClientStaysOpenForAFramedResponse() {
    send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    respond(pool.last(), OK);
    String response = drain(client);
    assertThat(response.toLowerCase()).contains("connection: keep-alive");
    assertThat(client.isOpen()).isTrue();
  }

  @Test
  void connectionCloseFromTheClientClosesAfterTheResponse() {
    send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    assertThat(drain(pool.last())).doesNotContain("close");
    respond(pool.last(), OK);
    assertThat(drain(client)).contains("connection: close");
    assertThat(client.isOpen()).isFalse();
    assertThat(pool.idleCount(b1)).isOne();
  }

  @Test
  void connectionCloseFromTheBackendDiscardsOnlyTheBackendConnection() {
    send(GET);
    respond(pool.last(), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
    assertThat(drain(client).toLowerCase()).doesNotContain("connection: close");
    assertThat(client.isOpen()).isTrue();
    assertThat(pool.idleCount(b1)).isZero();
    assertThat(pool.last().isOpen()).isFalse();
  }

  @Test
  void pipelinedRequestsAreForwardedOneAtATimeAndAnsweredInOrder() {
    send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(pool.opened()).hasSize(1);
    EmbeddedChannel first = pool.last();
    assertThat(drain(first)).startsWith("GET /1 ").doesNotContain("GET /2");
    assertThat(client.config().isAutoRead()).isFalse();
    respond(first, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none");
    assertThat(pool.opened()).hasSize(2);
    EmbeddedChannel second = pool.last();
    assertThat(drain(second)).startsWith("GET /2 ");
    respond(second, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo");
    String responses = drain(client);
    assertThat(responses.indexOf("one")).isLessThan(responses.indexOf("two"));
    assertThat(responses).endsWith("two");
    assertThat(client.config().isAutoRead()).isTrue();
  }

  @Test
  void aChunkedUploadIsStreamedPieceByPiece() {
    send("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    EmbeddedChannel backend = pool.last();
    assertThat(drain(backend)).startsWith("POST /up HTTP/1.1\r\n").endsWith("5\r\nhello\r\n");
    send("6\r\n world\r\n");
    assertThat(drain(backend)).isEqualTo("6\r\n world\r\n");
    send("0\r\n\r\n");
    assertThat(drain(backend)).isEqualTo("0\r\n\r\n");
    respond(backend, OK);
    assertThat(drain(client)).startsWith("HTTP/1.1 200 OK");
  }

  @Test
  void theBodyThatArrivesWhileConnectingIsSentAfterTheHead() {
    pool.deferConnects();
    send("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234");
    assertThat(client.config().isAutoRead()).isFalse();
    EmbeddedChannel backend = pool.last();
    assertThat(drain(backend)).isEmpty();
    pool.completePendingConnect();
    assertThat(client.config().isAutoRead()).isTrue();
    assertThat(drain(backend)).startsWith("POST /up HTTP/1.1\r\n").endsWith("\r\n\r\n01234");
    send("56789");
    assertThat(drain(backend)).isEqualTo("56789");
    respond(backend, OK);
    assertThat(drain(client)).startsWith("HTTP/1.1 200 OK");
  }

  @Test
  void aResponseCutMidBodyClosesTheClient() {
    send(GET);
    EmbeddedChannel backend = pool.last();
    respond(backend, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    assertThat(drain(client)).startsWith("HTTP/1.1 200 OK").endsWith("abc");
    backend.close();
    assertThat(client.isOpen()).isFalse();
    assertThat(pool.offered()).isZero();
  }

  @Test
  void garbageFromTheBackendIsDiscardedAndAGetRetriedElsewhere() {
    send(GET);
    EmbeddedChannel backend = pool.last();
    respond(backend, "NOT HTTP AT ALL\r\n\r\n");
    assertThat(backend.isOpen()).isFalse();
    assertThat(pool.offered()).isZero();
    assertThat(pool.opened()).as("an idempotent request is sent again: nothing reached the client").hasSize(2);
    respond(pool.last(), OK);
    assertThat(drain(client)).startsWith("HTTP/1.1 200 OK");
  }

  @Test
  void garbageFromTheBackendIs502ForAPostAndTheConnectionIsDiscarded() {
    send("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc");
    EmbeddedChannel backend = pool.last();
    respond(backend, "NOT HTTP AT ALL\r\n\r\n");
    String response = drain(client);
    assertThat(response).startsWith("HTTP/1.1 502 ");
    assertThat(response.toLowerCase()).doesNotContain("connection: close");
    assertThat(backend.isOpen()).isFalse();
    assertThat(pool.offered()).isZero();
    assertThat(pool.opened()).as("a POST that was sent is not sent again").hasSize(1);
    String body = response.substring(response.indexOf("\r\n\r\n") + 4);
    assertThat(logged.get(logged.size() - 1).get(AccessLogMessage.RESPONSE_BYTES))
        .as("the access log counts the body of lb's own answer").isEqualTo(Integer.toString(body.length()));

    send(GET);
    respond(pool.last(), OK);
    assertThat(drain(client)).startsWith("HTTP/1.1 200 OK");
  }

  /** Makes every write on a backend connection fail at once, as on a socket the backend has reset. */
  private static void failWrites(EmbeddedChannel backend) {
    backend.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
      @Override
      public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        ReferenceCountUtil.release(msg);
        promise.setFailure(new IOException("Connection reset by peer"));
      }
    });
  }

  @Test
  void aPostWhoseWriteFailsIs502AndTheClientIsReadAgain() {
    pool.deferConnects();
    send("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc");
    failWrites(pool.last());
    pool.completePendingConnect();
    assertThat(drain(client)).startsWith("HTTP/1.1 502 ");
    assertThat(pool.opened()).hasSize(1);
    assertThat(client.config().isAutoRead()).as("the client is read again").isTrue();
  }

  @Test
  void aGetWhoseWriteFailsIsRetriedAndTheClientIsReadAgain() {
    pool.deferConnects();
    send(GET);
    EmbeddedChannel first = pool.last();
    failWrites(first);
    pool.completePendingConnect();
    EmbeddedChannel second = pool.last();
    assertThat(second).isNotSameAs(first);
    pool.completePendingConnect();
    assertThat(drain(second)).startsWith("GET /a?x=1 HTTP/1.1\r\n");
    respond(second, OK);
    assertThat(drain(client)).startsWith("HTTP/1.1 200 OK");
    assertThat(client.config().isAutoRead()).isTrue();
  }

  @Test
  void aPartialResponseHeadThenACloseRetriesAGetAndIs502ForAPost() {
    send(GET);
    EmbeddedChannel backend = pool.last();
    respond(backend, "HTTP/1.1 20");
    backend.close();
    assertThat(pool.opened()).as("none of the partial head reached the client: the GET is sent again").hasSize(2);
    respond(pool.last(), OK);
    assertThat(drain(client)).startsWith("HTTP/1.1 200 OK");

    send("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc");
    EmbeddedChannel post = pool.last();
    respond(post, "HTTP/1.1 20");
    post.close();
    assertThat(drain(client)).startsWith("HTTP/1.1 502 ");
    assertThat(client.isOpen()).isTrue();
  }

  @Test
  void aResponseLongerThanItsContentLengthEndsAtItsLengthAndItsConnectionIsClosed() {
    send(GET);
    EmbeddedChannel backend = pool.last();
    respond(backend, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged");
    String response = drain(client);
    assertThat(response).startsWith("HTTP/1.1 200 OK").endsWith("\r\n\r\nhi");
    assertThat(backend.isOpen()).isFalse();
    assertThat(pool.offered()).as("never pooled").isZero();

    send(GET);
    assertThat(pool.opened()).hasSize(2);
    respond(pool.last(), OK);
    assertThat(drain(client)).startsWith("HTTP/1.1 200 OK").doesNotContain("forged");
  }

  @Test
  void aPipelinedRequestNeverTakesAConnectionWhoseResponseRanLong() {
    context.routing(TestSettings.routing(b1));
    send(GET + GET);
    EmbeddedChannel backend = pool.last();
    respond(backend, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged");
    assertThat(pool.opened()).as("the second request went to a new connection").hasSize(2);
    respond(pool.last(), OK);
    String both = drain(client);
    assertThat(both).doesNotContain("forged");
    assertThat(both.split("HTTP/1.1 200 OK", -1)).hasSize(3);
  }

  @Test
  void aClientThatLeavesMidExchangeClosesTheBackendConnection() {
    send("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234");
    EmbeddedChannel backend = pool.last();
    client.close();
    assertThat(backend.isOpen()).isFalse();
    assertThat(logged.get(0).get(AccessLogMessage.STATUS)).isEqualTo("499");
  }

  @Test
  void expectContinueIsRelayedFromTheBackend() {
    send("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    EmbeddedChannel backend = pool.last();
    assertThat(drain(backend)).containsIgnoringCase("expect: 100-continue");
    respond(backend, "HTTP/1.1 100 Continue\r\n\r\n");
    assertThat(drain(client)).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
    send("abc");
    assertThat(drain(backend)).isEqualTo("abc");
    respond(backend, OK);
    assertThat(drain(client)).startsWith("HTTP/1.1 200 OK");
  }

  @Test
  void anEarlyFinalResponseClosesBothSidesWhenTheBodyIsUnread() {
    send("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01");
    EmbeddedChannel backend = pool.last();
    respond(backend, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n");
    assertThat(drain(client)).startsWith("HTTP/1.1 413 ").contains("connection: close");
    assertThat(client.isOpen()).isFalse();
    assertThat(backend.isOpen()).isFalse();
  }

  @Test
  void aMalformedRequestIsAnsweredWithoutReachingABackend() {
    send("GET / HTTP/1.1\r\n\r\n");
    assertThat(pool.connectedTo()).isEmpty();
    assertThat(drain(client)).startsWith("HTTP/1.1 400 Bad Request\r\n").contains("connection: close")
        .endsWith("{\"code\":400,\"message\":\"Bad request\"}");
    assertThat(client.isOpen()).isFalse();
  }

  @Test
  void aRejectionThatKeepsTheConnectionIsAnsweredInTurn() {
    // A limiter's refusal (as a 429 would be) keeps the connection open and drops the request's body.
    client.pipeline().addBefore(HandlerNames.PROXY, "reject-posts", new io.netty.channel.ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof io.netty.handler.codec.http.HttpRequest
            && ((io.netty.handler.codec.http.HttpRequest) msg).method().name().equals("POST")) {
          ctx.fireChannelRead(new RejectedRequest((io.netty.handler.codec.http.HttpRequest) msg,
              HttpResponseStatus.TOO_MANY_REQUESTS, false));
          return;
        }
        ctx.fireChannelRead(msg);
      }
    });
    send("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    String first = drain(client);
    assertThat(first).startsWith("HTTP/1.1 429 Too Many Requests\r\n")
        .endsWith("{\"code\":429,\"message\":\"Rate limit exceeded\"}");
    assertThat(first).doesNotContain("connection: close");
    EmbeddedChannel backend = pool.last();
    assertThat(drain(backend)).startsWith("GET / HTTP/1.1");
    respond(backend, OK);
    assertThat(drain(client)).startsWith("HTTP/1.1 200 OK");
    assertThat(client.isOpen()).isTrue();
  }

  @Test
  void aRejectedRequestsBodyIsDroppedAsItArrivesAndTheNextRequestIsServed() {
    client.pipeline().addBefore(HandlerNames.PROXY, "reject-posts", new io.netty.channel.ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof io.netty.handler.codec.http.HttpRequest
            && ((io.netty.handler.codec.http.HttpRequest) msg).method().name().equals("POST")) {
          msg = new RejectedRequest((io.netty.handler.codec.http.HttpRequest) msg,
              HttpResponseStatus.TOO_MANY_REQUESTS, false);
        }
        ctx.fireChannelRead(msg);
      }
    });
    send("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\nabc");
    assertThat(drain(client)).startsWith("HTTP/1.1 429 ").doesNotContain("connection: close");
    send("def");
    send(GET);
    assertThat(drain(pool.last())).startsWith("GET /a?x=1 ");
    respond(pool.last(), OK);
    assertThat(drain(client)).startsWith("HTTP/1.1 200 OK");
  }

  @Test
  void aRejectedRequestWithAHugeBodyClosesTheConnectionInstead() {
    client.pipeline().addBefore(HandlerNames.PROXY, "reject-all", new io.netty.channel.ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof io.netty.handler.codec.http.HttpRequest) {
          msg = new RejectedRequest((io.netty.handler.codec.http.HttpRequest) msg,
              HttpResponseStatus.TOO_MANY_REQUESTS, false);
        }
        ctx.fireChannelRead(msg);
      }
    });
    send("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: " + (ProxyHandler.MAX_SWALLOW + 1) + "\r\n\r\nabc");
    assertThat(drain(client)).startsWith("HTTP/1.1 429 ").contains("connection: close");
    assertThat(client.isOpen()).isFalse();
  }

  @Test
  void drainingClosesAnIdleConnectionAndEndsKeepAliveOnABusyOne() {
    EmbeddedChannel idle = newClient();
    idle.pipeline().fireUserEventTriggered(ProxyHandler.DRAIN);
    assertThat(idle.isOpen()).isFalse();
    idle.finishAndReleaseAll();

    send(GET);
    context.startDraining();
    client.pipeline().fireUserEventTriggered(ProxyHandler.DRAIN);
    assertThat(client.isOpen()).isTrue();
    respond(pool.last(), OK);
    assertThat(drain(client)).contains("connection: close").endsWith("hi");
    assertThat(client.isOpen()).isFalse();
  }

  @Test
  void aWebSocketUpgradeBecomesAByteTunnel() {
    send("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    EmbeddedChannel backend = pool.last();
    String upgrade = drain(backend);
    assertThat(upgrade.toLowerCase()).contains("connection: upgrade").contains("upgrade: websocket");
    respond(backend, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\nFROM-SERVER");
    String response = drain(client);
    assertThat(response).startsWith("HTTP/1.1 101 Switching Protocols\r\n").endsWith("\r\n\r\nFROM-SERVER");
    assertThat(response.toLowerCase()).contains("upgrade: websocket").contains("connection: upgrade");
    assertThat(client.pipeline().get(HandlerNames.PROXY)).isNull();
    assertThat(client.pipeline().get(HandlerNames.SERVER_CODEC)).isNull();
    send("GET / HTTP/1.1 is just bytes now");
    assertThat(drain(backend)).isEqualTo("GET / HTTP/1.1 is just bytes now");
    respond(backend, "more bytes");
    assertThat(drain(client)).isEqualTo("more bytes");
    backend.close();
    assertThat(client.isOpen()).isFalse();
  }

  @Test
  void aHeadResponseHasNoBodyAndKeepsBothConnections() {
    send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
    respond(pool.last(), "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
    String response = drain(client);
    assertThat(response).startsWith("HTTP/1.1 200 OK").containsIgnoringCase("content-length: 1000")
        .endsWith("\r\n\r\n");
    assertThat(pool.idleCount(b1)).isOne();
    send(GET);
    assertThat(pool.opened()).hasSize(2);
  }
}
