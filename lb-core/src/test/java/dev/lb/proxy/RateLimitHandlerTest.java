package dev.lb.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendGroup;
import dev.lb.balance.RoundRobinBalancer;
import dev.lb.balance.Routing;
import dev.lb.config.BackendConfig;
import dev.lb.config.KeySource;
import dev.lb.config.LbConfig;
import dev.lb.log.AccessLog;
import dev.lb.pool.EmbeddedPool;
import dev.lb.ratelimit.CidrSet;
import dev.lb.ratelimit.ClientKeys;
import dev.lb.ratelimit.Limit;
import dev.lb.ratelimit.LimitRegistry;
import dev.lb.ratelimit.LocalRateLimiter;
import dev.lb.ratelimit.RateLimiter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The rate-limit slot inside the real client pipeline, with embedded backend connections. */
class RateLimitHandlerTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000_000L);
  private final Backend backend = new Backend(new BackendConfig("http://127.0.0.1:8081", "127.0.0.1", 8081, 1));
  private final EmbeddedPool pool = new EmbeddedPool();
  private final List<ByteBuf> sent = new ArrayList<>();
  private LocalRateLimiter limiter;
  private EmbeddedChannel client;

  private EmbeddedChannel client(RateLimiter rl, boolean headers) {
    ProxySettings settings = ProxySettings.from(LbConfig.withBackends(
        List.of(new BackendConfig("http://127.0.0.1:8081", "127.0.0.1", 8081, 1))));
    BackendGroup group = BackendGroup.of(List.of(backend));
    ProxyContext context = new ProxyContext(settings,
        new Routing(group, new RoundRobinBalancer().picker(group)), AccessLog.DISABLED);
    context.rateLimitHandlers(
        () -> new RateLimitHandler(rl, new ClientKeys(KeySource.CLIENT_ADDRESS, CidrSet.EMPTY), headers));
    EmbeddedChannel ch = EmbeddedClients.open(context, pool);
    client = ch;
    return ch;
  }

  private LocalRateLimiter limiter(long capacity) {
    limiter = new LocalRateLimiter(new LimitRegistry(new Limit(capacity, 1), Map.of()), now::get, 100, false);
    return limiter;
  }

  @AfterEach
  void tearDown() {
    if (client != null) {
      client.finishAndReleaseAll();
    }
    pool.finishAll();
    if (limiter != null) {
      limiter.close();
    }
    for (ByteBuf b : sent) {
      assertThat(b.refCnt()).isZero();
    }
  }

  private void send(String raw) {
    ByteBuf b = Unpooled.copiedBuffer(raw, US_ASCII);
    sent.add(b);
    client.writeInbound(b);
  }

  private void respond(String raw) {
    ByteBuf b = Unpooled.copiedBuffer(raw, US_ASCII);
    sent.add(b);
    pool.last().writeInbound(b);
  }

  private static String drain(EmbeddedChannel ch) {
    StringBuilder sb = new StringBuilder();
    for (Object m; (m = ch.readOutbound()) != null; ) {
      sb.append(((ByteBuf) m).toString(US_ASCII));
      ((ByteBuf) m).release();
    }
    return sb.toString();
  }

  private static final String GET = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

  @Test
  void capacityRequestsPassWithRateLimitHeadersThenA429() {
    client(limiter(2), true);
    send(GET);
    respond(OK);
    String first = drain(client);
    assertThat(first).startsWith("HTTP/1.1 200 OK").contains("ratelimit-limit: 2\r\n")
        .contains("ratelimit-remaining: 1\r\n").contains("ratelimit-reset: 1\r\n");
    send(GET);
    respond(OK);
    assertThat(drain(client)).contains("ratelimit-remaining: 0\r\n").contains("ratelimit-reset: 2\r\n");
    int connections = pool.opened().size();
    drain(pool.last());

    send(GET);
    String refused = drain(client);
    assertThat(refused).startsWith("HTTP/1.1 429 Too Many Requests\r\n")
        .contains("content-type: application/json\r\n")
        .contains("retry-after: 1\r\n")
        .contains("ratelimit-limit: 2\r\n")
        .contains("ratelimit-remaining: 0\r\n")
        .contains("ratelimit-reset: 2\r\n")
        .doesNotContain("connection: close")
        .endsWith("\r\n\r\n{\"code\":429,\"message\":\"Rate limit exceeded\"}");
    assertThat(drain(pool.last())).as("the backend never saw it").isEmpty();
    assertThat(pool.opened()).hasSize(connections);
    assertThat(client.isOpen()).isTrue();

    now.addAndGet(1_000_000_000L);
    send(GET);
    assertThat(drain(pool.last())).startsWith("GET / ");
  }

  @Test
  void aRefusedRequestsBodyIsDroppedAndTheConnectionServesTheNext() {
    client(limiter(1), true);
    send(GET);
    respond(OK);
    drain(client);
    drain(pool.last());
    send("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234");
    assertThat(drain(client)).startsWith("HTTP/1.1 429 ");
    send("56789");
    now.addAndGet(1_000_000_000L);
    send(GET);
    assertThat(drain(pool.last())).startsWith("GET / ").doesNotContain("0123");
    respond(OK);
    assertThat(drain(client)).startsWith("HTTP/1.1 200 OK");
  }

  @Test
  void aLimiterThatCannotDecideGets503WithoutRateLimitHeaders() {
    client((key, out, executor, whenDecided) -> {
      out.setUnavailable();
      return true;
    }, true);
    send(GET);
    String answer = drain(client);
    assertThat(answer).startsWith("HTTP/1.1 503 ").doesNotContain("ratelimit-").doesNotContain("retry-after");
    assertThat(pool.opened()).as("nothing went to a backend").isEmpty();
  }

  @Test
  void withHeadersOffOnlyThe429CarriesThem() {
    client(limiter(1), false);
    send(GET);
    respond(OK);
    assertThat(drain(client)).startsWith("HTTP/1.1 200 OK").doesNotContain("ratelimit-");
    send(GET);
    assertThat(drain(client)).startsWith("HTTP/1.1 429").contains("ratelimit-limit: 1");
  }

  @Test
  void pipelinedRequestsGetTheirOwnHeadersInOrder() {
    client(limiter(2), true);
    send(GET + GET + GET);
    respond(OK);
    respond(OK);
    String all = drain(client);
    int first = all.indexOf("ratelimit-remaining: 1");
    int second = all.indexOf("ratelimit-remaining: 0");
    int refused = all.indexOf("HTTP/1.1 429");
    assertThat(first).isPositive();
    assertThat(second).isGreaterThan(first);
    assertThat(refused).isGreaterThan(second);
  }

  @Test
  void aDecisionThatComesLaterHoldsTheRequestAndWhatFollowsInOrder() {
    List<Runnable> pendingDecisions = new ArrayList<>();
    boolean[] allow = {true};
    RateLimiter later = (key, out, executor, whenDecided) -> {
      pendingDecisions.add(() -> {
        out.set(allow[0], 5, 4, 1, 0);
        whenDecided.run();
      });
      return false;
    };
    client(later, true);
    send("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc");
    assertThat(pool.opened()).isEmpty();
    assertThat(client.config().isAutoRead()).isFalse();
    pendingDecisions.remove(0).run();
    assertThat(client.config().isAutoRead()).isTrue();
    assertThat(drain(pool.last())).startsWith("POST /up ").endsWith("\r\n\r\nabc");
    respond(OK);
    assertThat(drain(client)).contains("ratelimit-limit: 5").contains("ratelimit-remaining: 4");
    allow[0] = false;
    send(GET);
    pendingDecisions.remove(0).run();
    assertThat(drain(client)).startsWith("HTTP/1.1 429 ");
  }

  @Test
  void requestsTheGuardRefusedCostNoTokenAndKeepTheOrder() {
    client(limiter(1), true);
    send("GET / HTTP/1.1\r\n\r\n");
    assertThat(drain(client)).startsWith("HTTP/1.1 400 ").doesNotContain("ratelimit");
    assertThat(limiter.size()).isZero();
  }
}
