package dev.lb.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lb.server.testing.LogCapture;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.LogEvent;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The admin request handler with the aggregator in front, on an {@link EmbeddedChannel}: routing, access, limits,
 * failures, ordering; every request buffer must end released.
 */
class AdminRequestHandlerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 40_000);
  private static final SocketAddress REMOTE = new InetSocketAddress("10.1.2.3", 40_000);

  private final List<Runnable> blockingTasks = new ArrayList<>();
  private final Executor blocking = blockingTasks::add;
  private @Nullable EmbeddedChannel channel;

  @AfterEach
  void releaseEverything() {
    if (channel != null) {
      assertThat(channel.finishAndReleaseAll()).as("messages left unread").isFalse();
    }
  }

  // ---- routing ----

  @Test
  void answersAnExactRouteWithJson() {
    EmbeddedChannel ch = open(health(), "", LOOPBACK);
    FullHttpRequest request = request(HttpMethod.GET, "/healthz");

    Answer answer = exchange(ch, request);

    assertThat(request.refCnt()).isZero();
    assertThat(answer.status).isEqualTo(200);
    assertThat(answer.body).isEqualTo("{\"status\":\"UP\"}");
    assertThat(answer.headers.get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("application/json");
    assertThat(answer.headers.getInt(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(15);
    assertThat(answer.headers.contains(HttpHeaderNames.CONNECTION)).isFalse();
    assertThat(ch.isOpen()).isTrue();
  }

  @Test
  void unknownPathIs404() {
    EmbeddedChannel ch = open(health(), "", LOOPBACK);

    Answer answer = exchange(ch, request(HttpMethod.GET, "/nope"));

    assertThat(answer.status).isEqualTo(404);
    assertThat(answer.body).isEqualTo("{\"code\":404,\"message\":\"Not found\"}");
    assertThat(answer.headers.get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("application/json");
  }

  @Test
  void wrongMethodIs405WithAllow() {
    EmbeddedChannel ch = open(health(), "", LOOPBACK);

    Answer answer = exchange(ch, request(HttpMethod.POST, "/healthz"));

    assertThat(answer.status).isEqualTo(405);
    assertThat(answer.body).isEqualTo("{\"code\":405,\"message\":\"Method not allowed\"}");
    assertThat(answer.headers.get(HttpHeaderNames.ALLOW)).isEqualTo("GET, HEAD");
  }

  @Test
  void headIsServedByTheGetRouteWithTheSameLength() {
    EmbeddedChannel ch = open(health(), "", LOOPBACK);

    Answer answer = exchange(ch, request(HttpMethod.HEAD, "/healthz"));

    // The codec drops the body of an answer to HEAD; the length must still be that of GET.
    assertThat(answer.status).isEqualTo(200);
    assertThat(answer.headers.getInt(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(15);
  }

  @Test
  void pathParameterIsPercentDecodedAndPlusStaysPlus() {
    EmbeddedChannel ch = open(clientsRouter(), "", LOOPBACK);

    assertThat(exchange(ch, request(HttpMethod.GET, "/clients/a%2Fb%20c+d")).json().get("id").asText())
        .isEqualTo("a/b c+d");
    assertThat(exchange(ch, request(HttpMethod.GET, "/clients/%C3%A9t%C3%A9")).json().get("id").asText())
        .isEqualTo("été");
    assertThat(exchange(ch, request(HttpMethod.GET, "/clients/user1?x=1")).json().get("id").asText())
        .isEqualTo("user1");
  }

  @Test
  void pathParameterMatchesOneWholeSegmentOnly() {
    EmbeddedChannel ch = open(clientsRouter(), "", LOOPBACK);

    assertThat(exchange(ch, request(HttpMethod.GET, "/clients/a/b")).status).isEqualTo(404);
    assertThat(exchange(ch, request(HttpMethod.GET, "/clients/")).status).isEqualTo(404);
    assertThat(exchange(ch, request(HttpMethod.GET, "/clients")).status).isEqualTo(404);
  }

  @Test
  void pathParameterThatDecodesBadlyIs400() {
    EmbeddedChannel ch = open(clientsRouter(), "", LOOPBACK);

    for (String bad : List.of("%zz", "%2", "abc%", "%C3%28", "%FF", "a%00b", "a%0Ab")) {
      Answer answer = exchange(ch, request(HttpMethod.GET, "/clients/" + bad));
      assertThat(answer.status).as(bad).isEqualTo(400);
      assertThat(answer.body).isEqualTo("{\"code\":400,\"message\":\"Malformed path parameter: id\"}");
    }
  }

  @Test
  void queryParametersAreDecoded() {
    AdminRouter router =
        AdminRouter.builder()
            .route(HttpMethod.GET, "/q", Access.OPEN, r -> done(AdminResponse.json(200, r.queryParams())))
            .build();
    EmbeddedChannel ch = open(router, "", LOOPBACK);

    assertThat(exchange(ch, request(HttpMethod.GET, "/q?a=1&a=2&b=x+y%21")).body)
        .isEqualTo("{\"a\":[\"1\",\"2\"],\"b\":[\"x y!\"]}");
    Answer malformed = exchange(ch, request(HttpMethod.GET, "/q?a=%zz"));
    assertThat(malformed.status).isEqualTo(400);
    assertThat(malformed.body).isEqualTo("{\"code\":400,\"message\":\"Malformed query string\"}");
  }

  @Test
  void handlerSeesHeadersBodyAndPeer() {
    List<AdminRequest> seen = new ArrayList<>();
    AdminRouter router =
        AdminRouter.builder()
            .route(HttpMethod.POST, "/see", Access.OPEN, r -> {
              seen.add(r);
              return done(AdminResponse.noContent());
            })
            .build();
    EmbeddedChannel ch = open(router, "", LOOPBACK);
    FullHttpRequest request = request(HttpMethod.POST, "/see", "hello");
    request.headers().add("X-Test", "one").add("X-Test", "two");

    Answer answer = exchange(ch, request);

    assertThat(answer.status).isEqualTo(204);
    assertThat(answer.headers.contains(HttpHeaderNames.CONTENT_LENGTH)).isFalse();
    assertThat(answer.headers.contains(HttpHeaderNames.CONTENT_TYPE)).isFalse();
    AdminRequest r = seen.get(0);
    assertThat(r.method()).isEqualTo(HttpMethod.POST);
    assertThat(r.path()).isEqualTo("/see");
    assertThat(r.bodyText()).isEqualTo("hello");
    assertThat(r.headers().getAll("x-test")).containsExactly("one", "two");
    assertThat(r.remoteAddress()).isEqualTo(LOOPBACK);
    assertThat(request.refCnt()).isZero();
  }

  // ---- access ----

  @Test
  void withATokenManagementNeedsTheBearerToken() {
    EmbeddedChannel ch = open(clientsRouter(), "s3cret", LOOPBACK);

    for (String authorization : new String[] {null, "Bearer wrong", "Bearer s3cret2", "Bearer ", "Basic czNjcmV0",
        "s3cret"}) {
      FullHttpRequest request = request(HttpMethod.GET, "/clients/x");
      if (authorization != null) {
        request.headers().set(HttpHeaderNames.AUTHORIZATION, authorization);
      }
      Answer answer = exchange(ch, request);
      assertThat(answer.status).as(String.valueOf(authorization)).isEqualTo(401);
      assertThat(answer.body).isEqualTo("{\"code\":401,\"message\":\"Unauthorized\"}");
      assertThat(answer.headers.get(HttpHeaderNames.WWW_AUTHENTICATE)).isEqualTo("Bearer");
    }
    for (String authorization : List.of("Bearer s3cret", "bearer s3cret", "BEARER   s3cret ")) {
      FullHttpRequest request = request(HttpMethod.GET, "/clients/x");
      request.headers().set(HttpHeaderNames.AUTHORIZATION, authorization);
      assertThat(exchange(ch, request).status).as(authorization).isEqualTo(200);
    }
  }

  @Test
  void withATokenTheAddressDoesNotMatter() {
    EmbeddedChannel ch = open(clientsRouter(), "s3cret", REMOTE);
    FullHttpRequest request = request(HttpMethod.GET, "/clients/x");
    request.headers().set(HttpHeaderNames.AUTHORIZATION, "Bearer s3cret");

    assertThat(exchange(ch, request).status).isEqualTo(200);
  }

  @Test
  void withoutATokenOnlyLoopbackPeersGetIn() throws Exception {
    byte[] mapped = new byte[16];
    mapped[10] = (byte) 0xff;
    mapped[11] = (byte) 0xff;
    mapped[12] = 127;
    mapped[15] = 1;
    List<SocketAddress> allowed =
        List.of(
            LOOPBACK,
            new InetSocketAddress("127.8.9.10", 1),
            new InetSocketAddress("::1", 1),
            new InetSocketAddress(Inet6Address.getByAddress(null, mapped, null), 1));
    for (SocketAddress peer : allowed) {
      EmbeddedChannel ch = open(clientsRouter(), "", peer);
      assertThat(exchange(ch, request(HttpMethod.GET, "/clients/x")).status).as(peer.toString()).isEqualTo(200);
      assertThat(ch.finishAndReleaseAll()).isFalse();
    }
    List<SocketAddress> refused =
        List.of(
            REMOTE,
            new InetSocketAddress("192.168.1.1", 1),
            new InetSocketAddress(InetAddress.getByName("::ffff:10.0.0.1"), 1),
            new InetSocketAddress("2001:db8::1", 1),
            InetSocketAddress.createUnresolved("localhost", 1),
            new SocketAddress() {});
    for (SocketAddress peer : refused) {
      EmbeddedChannel ch = open(clientsRouter(), "", peer);
      Answer answer = exchange(ch, request(HttpMethod.GET, "/clients/x"));
      assertThat(answer.status).as(peer.toString()).isEqualTo(403);
      assertThat(answer.body).isEqualTo("{\"code\":403,\"message\":\"Forbidden\"}");
      assertThat(ch.finishAndReleaseAll()).isFalse();
    }
  }

  @Test
  void openRoutesNeedNothing() {
    EmbeddedChannel ch = open(health(), "s3cret", REMOTE);

    assertThat(exchange(ch, request(HttpMethod.GET, "/healthz")).status).isEqualTo(200);
  }

  // ---- body limit ----

  @Test
  void bodyUpToTheLimitIsAggregated() {
    EmbeddedChannel ch = open(echoLengthRouter(), "", LOOPBACK);
    HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/len");
    head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    ByteBuf first = bytes(AdminAggregator.MAX_BODY_BYTES - 1);
    ByteBuf last = bytes(1);

    ch.writeInbound(head, new DefaultHttpContent(first), new DefaultLastHttpContent(last));

    assertThat(first.refCnt()).isZero();
    assertThat(last.refCnt()).isZero();
    assertThat(read(ch).body).isEqualTo("{\"length\":65536}");
  }

  @Test
  void declaredLengthOverTheLimitIs413AndTheConnectionStays() {
    EmbeddedChannel ch = open(echoLengthRouter(), "", LOOPBACK);
    HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/len");
    HttpUtil.setContentLength(head, AdminAggregator.MAX_BODY_BYTES + 1);

    ch.writeInbound(head);
    Answer answer = read(ch);

    assertThat(answer.status).isEqualTo(413);
    assertThat(answer.body).isEqualTo("{\"code\":413,\"message\":\"Payload too large\"}");
    assertThat(answer.headers.getInt(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(answer.body.length());
    // The body that follows is skipped, and the next request is served.
    ByteBuf skipped = bytes(AdminAggregator.MAX_BODY_BYTES + 1);
    ch.writeInbound(new DefaultLastHttpContent(skipped));
    assertThat(skipped.refCnt()).isZero();
    assertThat(exchange(ch, request(HttpMethod.POST, "/len", "abc")).body).isEqualTo("{\"length\":3}");
  }

  @Test
  void chunkedBodyOverTheLimitIs413AndCloses() {
    EmbeddedChannel ch = open(echoLengthRouter(), "", LOOPBACK);
    HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/len");
    head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    ByteBuf first = bytes(40_000);
    ByteBuf second = bytes(40_000);

    ch.writeInbound(head, new DefaultHttpContent(first), new DefaultHttpContent(second));
    Answer answer = read(ch);

    assertThat(first.refCnt()).isZero();
    assertThat(second.refCnt()).isZero();
    assertThat(answer.status).isEqualTo(413);
    assertThat(answer.body).isEqualTo("{\"code\":413,\"message\":\"Payload too large\"}");
    assertThat(answer.headers.get(HttpHeaderNames.CONNECTION)).isEqualTo("close");
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void expectContinueOverTheLimitIs413InsteadOf100() {
    EmbeddedChannel ch = open(echoLengthRouter(), "", LOOPBACK);
    HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/len");
    HttpUtil.setContentLength(head, 1_000_000);
    head.headers().set(HttpHeaderNames.EXPECT, HttpHeaderValues.CONTINUE);

    ch.writeInbound(head);
    Answer answer = read(ch);

    assertThat(answer.status).isEqualTo(413);
    assertThat(answer.body).isEqualTo("{\"code\":413,\"message\":\"Payload too large\"}");
    assertThat(answer.headers.get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("application/json");
    assertThat(ch.<Object>readOutbound()).isNull();
    assertThat(ch.isOpen()).isTrue();
  }

  // ---- JSON bodies ----

  @Test
  void jsonBodyHelperTurnsBadJsonInto400() {
    AdminRouter router =
        AdminRouter.builder()
            .route(HttpMethod.POST, "/json", Access.OPEN, r -> done(AdminResponse.json(200, r.jsonBody())))
            .build();
    EmbeddedChannel ch = open(router, "", LOOPBACK);

    assertThat(exchange(ch, request(HttpMethod.POST, "/json", "{\"a\": [1, 2]}")).body)
        .isEqualTo("{\"a\":[1,2]}");
    Answer truncated = exchange(ch, request(HttpMethod.POST, "/json", "{\"a\":"));
    assertThat(truncated.status).isEqualTo(400);
    assertThat(truncated.json().get("code").asInt()).isEqualTo(400);
    assertThat(truncated.json().get("message").asText()).startsWith("Malformed JSON at line 1, column ");
    for (String bad : List.of("{\"a\":1} x", "{\"a\":1,\"a\":2}", "nope", "{'a':1}")) {
      Answer answer = exchange(ch, request(HttpMethod.POST, "/json", bad));
      assertThat(answer.status).as(bad).isEqualTo(400);
      assertThat(answer.json().get("message").asText()).as(bad).startsWith("Malformed JSON");
    }
    for (String empty : List.of("", " \r\n ")) {
      assertThat(exchange(ch, request(HttpMethod.POST, "/json", empty)).body)
          .isEqualTo("{\"code\":400,\"message\":\"Request body must be a JSON document\"}");
    }
  }

  // ---- asynchronous and failing handlers ----

  @Test
  void aHandlerMayAnswerLaterAndPipelinedAnswersKeepTheirOrder() {
    CompletableFuture<AdminResponse> slow = new CompletableFuture<>();
    AdminRouter router =
        HealthEndpoints.register(AdminRouter.builder(), () -> true)
            .route(HttpMethod.GET, "/slow", Access.OPEN, r -> slow)
            .build();
    EmbeddedChannel ch = open(router, "", LOOPBACK);
    FullHttpRequest first = request(HttpMethod.GET, "/slow");
    FullHttpRequest second = request(HttpMethod.GET, "/healthz");

    ch.writeInbound(first, second);

    assertThat(first.refCnt()).isZero();
    assertThat(second.refCnt()).isZero();
    assertThat(ch.<Object>readOutbound()).as("nothing before the slow answer").isNull();
    assertThat(ch.config().isAutoRead()).as("reading pauses while requests wait").isFalse();

    slow.complete(AdminResponse.json(202, "{\"slow\":true}"));

    assertThat(read(ch).body).isEqualTo("{\"slow\":true}");
    assertThat(read(ch).body).isEqualTo("{\"status\":\"UP\"}");
    assertThat(ch.config().isAutoRead()).isTrue();
  }

  @Test
  void aThrowingHandlerIs500AndOneLogLine() {
    AdminRouter router =
        AdminRouter.builder()
            .route(HttpMethod.GET, "/boom", Access.OPEN, r -> {
              throw new IllegalStateException("boom");
            })
            .build();
    EmbeddedChannel ch = open(router, "", LOOPBACK);

    Answer answer;
    List<LogEvent> events;
    try (LogCapture log = LogCapture.of(AdminDispatcher.class)) {
      answer = exchange(ch, request(HttpMethod.GET, "/boom"));
      events = log.events();
    }

    assertThat(answer.status).isEqualTo(500);
    assertThat(answer.body).isEqualTo("{\"code\":500,\"message\":\"Internal error\"}");
    assertThat(events).hasSize(1);
    assertThat(events.get(0).getLevel()).isEqualTo(Level.ERROR);
    assertThat(events.get(0).getMessage().getFormattedMessage()).contains("GET /boom");
    assertThat(events.get(0).getThrown()).hasMessage("boom");
  }

  @Test
  void aHandlerCompletingExceptionallyOrWithNothingIs500() {
    AdminRouter router =
        AdminRouter.builder()
            .route(HttpMethod.GET, "/failed", Access.OPEN,
                r -> CompletableFuture.failedFuture(new IllegalStateException("later boom")))
            .route(HttpMethod.GET, "/null-stage", Access.OPEN, r -> null)
            .route(HttpMethod.GET, "/null-answer", Access.OPEN, r -> CompletableFuture.completedFuture(null))
            .build();
    EmbeddedChannel ch = open(router, "", LOOPBACK);

    try (LogCapture log = LogCapture.of(AdminDispatcher.class)) {
      for (String path : List.of("/failed", "/null-stage", "/null-answer")) {
        assertThat(exchange(ch, request(HttpMethod.GET, path)).status).as(path).isEqualTo(500);
      }
      assertThat(log.events()).hasSize(3);
    }
  }

  @Test
  void anAdminExceptionIsSentAsItIsAndNotLogged() {
    AdminRouter router =
        AdminRouter.builder()
            .route(HttpMethod.POST, "/clients", Access.OPEN, r -> {
              throw new AdminException(409, "Client exists: user1");
            })
            .route(HttpMethod.PUT, "/clients", Access.OPEN,
                r -> CompletableFuture.failedFuture(AdminException.badRequest("capacity: -1 (expected: > 0)")))
            .build();
    EmbeddedChannel ch = open(router, "", LOOPBACK);

    try (LogCapture log = LogCapture.of(AdminDispatcher.class)) {
      assertThat(exchange(ch, request(HttpMethod.POST, "/clients")).body)
          .isEqualTo("{\"code\":409,\"message\":\"Client exists: user1\"}");
      assertThat(exchange(ch, request(HttpMethod.PUT, "/clients")).body)
          .isEqualTo("{\"code\":400,\"message\":\"capacity: -1 (expected: > 0)\"}");
      assertThat(log.events()).isEmpty();
    }
  }

  @Test
  void blockingRoutesRunOnTheBlockingExecutor() {
    AdminRouter router =
        AdminRouter.builder()
            .routeBlocking(HttpMethod.GET, "/db", Access.OPEN, r -> AdminResponse.json(200, Map.of("rows", 3)))
            .routeBlocking(HttpMethod.GET, "/db-down", Access.OPEN, r -> {
              throw new SQLException("connection refused");
            })
            .build();
    EmbeddedChannel ch = open(router, "", LOOPBACK);

    ch.writeInbound(request(HttpMethod.GET, "/db"));
    assertThat(ch.<Object>readOutbound()).as("not run on the event loop").isNull();
    assertThat(blockingTasks).hasSize(1);
    blockingTasks.remove(0).run();
    assertThat(read(ch).body).isEqualTo("{\"rows\":3}");

    try (LogCapture log = LogCapture.of(AdminDispatcher.class)) {
      ch.writeInbound(request(HttpMethod.GET, "/db-down"));
      blockingTasks.remove(0).run();
      assertThat(read(ch).status).isEqualTo(500);
      assertThat(log.events()).hasSize(1);
    }
  }

  @Test
  void aSaturatedBlockingExecutorIs503() {
    AdminRouter router =
        AdminRouter.builder()
            .routeBlocking(HttpMethod.GET, "/db", Access.OPEN, r -> AdminResponse.noContent())
            .build();
    Executor full = task -> {
      throw new RejectedExecutionException("full");
    };
    channel = new PeerChannel(LOOPBACK);
    channel.pipeline()
        .addLast(new AdminAggregator(),
            new AdminRequestHandler(new AdminDispatcher(router, AccessControl.forToken(""), full)));

    Answer answer = exchange(channel, request(HttpMethod.GET, "/db"));

    assertThat(answer.status).isEqualTo(503);
    assertThat(answer.body).isEqualTo("{\"code\":503,\"message\":\"Service unavailable\"}");
  }

  // ---- connection handling ----

  @Test
  void aMalformedRequestIs400AndCloses() {
    EmbeddedChannel ch = open(health(), "", LOOPBACK);
    FullHttpRequest bad = request(HttpMethod.GET, "/healthz");
    bad.setDecoderResult(DecoderResult.failure(new IllegalArgumentException("bad header")));

    Answer answer = exchange(ch, bad);

    assertThat(answer.status).isEqualTo(400);
    assertThat(answer.body).isEqualTo("{\"code\":400,\"message\":\"Bad request\"}");
    assertThat(answer.headers.get(HttpHeaderNames.CONNECTION)).isEqualTo("close");
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void aTooLongRequestLineIs414() {
    EmbeddedChannel ch = open(health(), "", LOOPBACK);
    FullHttpRequest bad = request(HttpMethod.GET, "/bad-request");
    bad.setDecoderResult(DecoderResult.failure(new TooLongHttpLineException("too long")));

    assertThat(exchange(ch, bad).status).isEqualTo(414);
  }

  @Test
  void http10WithoutKeepAliveCloses() {
    EmbeddedChannel ch = open(health(), "", LOOPBACK);
    FullHttpRequest request =
        new DefaultFullHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET, "/healthz", alloc().buffer(0));

    Answer answer = exchange(ch, request);

    assertThat(answer.version).isEqualTo(HttpVersion.HTTP_1_0);
    assertThat(answer.status).isEqualTo(200);
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void http10WithKeepAliveStaysOpen() {
    EmbeddedChannel ch = open(health(), "", LOOPBACK);
    FullHttpRequest request =
        new DefaultFullHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET, "/healthz", alloc().buffer(0));
    request.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);

    Answer answer = exchange(ch, request);

    assertThat(answer.headers.get(HttpHeaderNames.CONNECTION)).isEqualToIgnoringCase("keep-alive");
    assertThat(ch.isOpen()).isTrue();
  }

  @Test
  void otherMessagesArePassedOn() {
    EmbeddedChannel ch = open(health(), "", LOOPBACK);
    ByteBuf stray = bytes(3);

    ch.writeInbound(stray);

    ByteBuf passed = ch.readInbound();
    assertThat(passed).isSameAs(stray);
    passed.release();
  }

  // ---- helpers ----

  private EmbeddedChannel open(AdminRouter router, String token, SocketAddress peer) {
    EmbeddedChannel ch = new PeerChannel(peer);
    ch.pipeline()
        .addLast(
            new AdminAggregator(),
            new AdminRequestHandler(new AdminDispatcher(router, AccessControl.forToken(token), blocking)));
    if (channel != null) {
      channel.finishAndReleaseAll();
    }
    channel = ch;
    return ch;
  }

  private static AdminRouter health() {
    return HealthEndpoints.register(AdminRouter.builder(), () -> true).build();
  }

  private static AdminRouter clientsRouter() {
    return AdminRouter.builder()
        .route(HttpMethod.GET, "/clients/{id}", Access.MANAGEMENT,
            r -> done(AdminResponse.json(200, Map.of("id", r.pathParam("id")))))
        .build();
  }

  private static AdminRouter echoLengthRouter() {
    return AdminRouter.builder()
        .route(HttpMethod.POST, "/len", Access.OPEN,
            r -> done(AdminResponse.json(200, Map.of("length", r.bodyLength()))))
        .build();
  }

  private static CompletionStage<AdminResponse> done(AdminResponse response) {
    return CompletableFuture.completedFuture(response);
  }

  private static PooledByteBufAllocator alloc() {
    return PooledByteBufAllocator.DEFAULT;
  }

  private static ByteBuf bytes(int n) {
    return alloc().buffer(n).writeZero(n);
  }

  private static FullHttpRequest request(HttpMethod method, String uri) {
    return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri, alloc().buffer(0));
  }

  private static FullHttpRequest request(HttpMethod method, String uri, String body) {
    ByteBuf content = ByteBufUtil.writeUtf8(alloc(), body);
    FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri, content);
    HttpUtil.setContentLength(request, content.readableBytes());
    return request;
  }

  private static Answer exchange(EmbeddedChannel ch, FullHttpRequest request) {
    ch.writeInbound(request);
    assertThat(request.refCnt()).as("request released").isZero();
    return read(ch);
  }

  private static Answer read(EmbeddedChannel ch) {
    FullHttpResponse response = ch.readOutbound();
    assertThat(response).as("an answer").isNotNull();
    try {
      return new Answer(
          response.protocolVersion(),
          response.status().code(),
          response.headers().copy(),
          response.content().toString(StandardCharsets.UTF_8));
    } finally {
      response.release();
    }
  }

  private static final class Answer {
    final HttpVersion version;
    final int status;
    final HttpHeaders headers;
    final String body;

    Answer(HttpVersion version, int status, HttpHeaders headers, String body) {
      this.version = version;
      this.status = status;
      this.headers = headers;
      this.body = body;
    }

    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (Exception e) {
        throw new AssertionError("not JSON: " + body, e);
      }
    }
  }

  /** An embedded channel whose peer is the given address, for the access checks. */
  private static final class PeerChannel extends EmbeddedChannel {
    private final @Nullable SocketAddress peer;

    PeerChannel(SocketAddress peer) {
      this.peer = peer;
    }

    @Override
    protected @Nullable SocketAddress remoteAddress0() {
      return peer;
    }
  }
}
