package dev.lb.proxy;

import static java.util.Objects.requireNonNull;

import dev.lb.pool.RawRequest;
import dev.lb.ratelimit.ClientIds;
import dev.lb.ratelimit.ClientKeys;
import dev.lb.ratelimit.Decision;
import dev.lb.ratelimit.RateLimiter;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The rate-limit slot of the client pipeline (between the guard and the balancing handler), the Netty side of the
 * plain-Java limiter in {@code dev.lb.ratelimit}. Each request costs its client one token: with a token it goes on;
 * without, a {@link RejectedRequest} with 429 takes its place, carrying {@code Retry-After} and the {@code RateLimit-*}
 * headers, so that the balancing handler answers it in turn, drops its body and keeps the connection, and no backend
 * sees it. With {@code headers} on, every response also carries the three {@code RateLimit-*} headers of its request;
 * they are matched to responses in request order.
 *
 * <p>When the limiter cannot decide at once, the request and what follows it wait here, and the client is not read,
 * until the decision arrives on this event loop.
 *
 * <p>Buffers: every message read is passed on (possibly later), or released if the connection closes first.
 */
public final class RateLimitHandler extends ChannelDuplexHandler {
  private final RateLimiter limiter;
  private final ClientKeys keys;
  private final boolean headers;
  private final java.util.function.Consumer<String> onRefusal;
  private final java.util.function.Predicate<String> ownLimit;
  /** Where requests go, when an upstream's own default limit may decide a request's bucket; else null. */
  private @Nullable ProxyContext routed;
  /** The client key of the request being decided. */
  private String key = "";
  private final Decision decision = new Decision();
  private final KeyHeaders keyHeaders = new KeyHeaders();
  private byte[] peer = new byte[0];
  private String peerKey = "unknown";
  private boolean perRequest;
  private @Nullable ChannelHandlerContext ctx;

  private @Nullable HttpRequest waitingFor;
  private @Nullable ArrayDeque<Object> held;
  private final Runnable decided = this::onDecided;

  /** Header values owed to responses, in request order: {limit, remaining, reset} each, limit -1 for none. */
  private long[] owed = new long[12];
  private int owedHead;
  private int owedCount;

  public RateLimitHandler(RateLimiter limiter, ClientKeys keys, boolean headers) {
    this(limiter, keys, headers, client -> {});
  }

  /** @param onRefusal told the client key of every request refused (the rejection counter, the status page) */
  public RateLimitHandler(RateLimiter limiter, ClientKeys keys, boolean headers,
      java.util.function.Consumer<String> onRefusal) {
    this(limiter, keys, headers, onRefusal, client -> false);
  }

  /**
   * @param ownLimit whether a client key has a limit of its own (API or configuration), which holds across upstreams;
   *     a client without one is counted per upstream for an upstream with a default limit of its own
   */
  public RateLimitHandler(RateLimiter limiter, ClientKeys keys, boolean headers,
      java.util.function.Consumer<String> onRefusal, java.util.function.Predicate<String> ownLimit) {
    this.ownLimit = requireNonNull(ownLimit, "ownLimit");
    this.limiter = requireNonNull(limiter, "limiter");
    this.keys = requireNonNull(keys, "keys");
    this.headers = headers;
    this.onRefusal = requireNonNull(onRefusal, "onRefusal");
  }

  /** Counts requests to an upstream with a default limit of its own in the client's bucket for that upstream. */
  void routes(ProxyContext context) {
    this.routed = context;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    SocketAddress remote = ctx.channel().remoteAddress();
    if (remote instanceof InetSocketAddress && ((InetSocketAddress) remote).getAddress() != null) {
      byte[] raw = ((InetSocketAddress) remote).getAddress().getAddress();
      peer = ClientIds.mappedToV4(raw);
      peerKey = NetUtil.bytesToIpAddress(peer);
    } else if (remote != null) {
      peerKey = remote.toString();
    }
    perRequest = keys.perRequest(peer);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    releaseHeld();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    releaseHeld();
    super.channelInactive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (waitingFor != null) {
      hold(msg);
      return;
    }
    if (!(msg instanceof HttpRequest)) {
      ctx.fireChannelRead(msg);
      return;
    }
    HttpRequest request = (HttpRequest) msg;
    if (request instanceof RejectedRequest) {
      owe(-1, 0, 0);
      ctx.fireChannelRead(request);
      return;
    }
    String key = perRequest ? keyOf(request) : peerKey;
    ProxyContext context = routed;
    if (context != null) {
      key = RequestRoutes.bucketKey(context.routes(), request, key, ownLimit);
    }
    this.key = key;
    if (limiter.acquire(key, decision, ctx.executor(), decided)) {
      decide(ctx, request);
    } else {
      waitingFor = request;
      ctx.channel().config().setAutoRead(false);
    }
  }

  private String keyOf(HttpRequest request) {
    if (request instanceof RawRequest) {
      keyHeaders.raw = (RawRequest) request;
    } else {
      keyHeaders.headers = request.headers();
    }
    try {
      return keys.keyOf(peer, peerKey, keyHeaders);
    } finally {
      keyHeaders.headers = EmptyHttpHeaders.INSTANCE;
      keyHeaders.raw = null;
    }
  }

  private void decide(ChannelHandlerContext ctx, HttpRequest request) {
    if (decision.allowed()) {
      if (headers && decision.limit() > 0) {
        owe(decision.limit(), decision.remaining(), decision.resetSeconds());
      } else {
        owe(-1, 0, 0);
      }
      ctx.fireChannelRead(request);
      return;
    }
    if (decision.unavailable()) {
      // The limiter could not decide (its shared store is unreachable and configured to fail closed).
      owe(-1, 0, 0);
      ctx.fireChannelRead(new RejectedRequest(request, HttpResponseStatus.SERVICE_UNAVAILABLE, false));
      return;
    }
    onRefusal.accept(key);
    HttpHeaders answer = DefaultHttpHeadersFactory.headersFactory().newEmptyHeaders();
    answer.set(RateLimitHeaders.RETRY_AFTER, RateLimitHeaders.number(decision.retryAfterSeconds()));
    RateLimitHeaders.set(answer, decision.limit(), 0, decision.resetSeconds());
    owe(-1, 0, 0);
    ctx.fireChannelRead(new RejectedRequest(request, HttpResponseStatus.TOO_MANY_REQUESTS, false, answer));
  }

  /** A decision that was not ready at once arrived (on this event loop). */
  private void onDecided() {
    ChannelHandlerContext c = ctx;
    HttpRequest request = waitingFor;
    if (c == null || request == null) {
      return;
    }
    waitingFor = null;
    decide(c, request);
    ArrayDeque<Object> queue = held;
    while (waitingFor == null && queue != null && !queue.isEmpty()) {
      channelRead(c, queue.poll());
    }
    // What was passed on here came outside a read burst: end one, so that handlers after this flush what they wrote.
    c.fireChannelReadComplete();
    if (waitingFor == null) {
      c.channel().config().setAutoRead(true);
    }
  }

  private void hold(Object msg) {
    ArrayDeque<Object> queue = held;
    if (queue == null) {
      queue = held = new ArrayDeque<>(4);
    }
    queue.add(msg);
  }

  private void releaseHeld() {
    ArrayDeque<Object> queue = held;
    if (queue != null) {
      for (Object m; (m = queue.poll()) != null; ) {
        ReferenceCountUtil.release(m);
      }
    }
    waitingFor = null;
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof HttpResponse
        && ((HttpResponse) msg).status().codeClass() != HttpStatusClass.INFORMATIONAL
        && owedCount > 0) {
      int at = owedHead * 3;
      long limit = owed[at];
      owedHead = (owedHead + 1) % (owed.length / 3);
      owedCount--;
      if (limit >= 0) {
        RateLimitHeaders.set(((HttpResponse) msg).headers(), limit, owed[at + 1], owed[at + 2]);
      }
    }
    ctx.write(msg, promise);
  }

  private void owe(long limit, long remaining, long reset) {
    int slots = owed.length / 3;
    if (owedCount == slots) {
      long[] grown = new long[owed.length * 2];
      for (int i = 0; i < owedCount; i++) {
        System.arraycopy(owed, ((owedHead + i) % slots) * 3, grown, i * 3, 3);
      }
      owed = grown;
      owedHead = 0;
      slots = owed.length / 3;
    }
    int at = ((owedHead + owedCount) % slots) * 3;
    owed[at] = limit;
    owed[at + 1] = remaining;
    owed[at + 2] = reset;
    owedCount++;
  }

  /** A request's headers as the client key reads them; one per handler, pointed at each request in turn. */
  private static final class KeyHeaders implements ClientKeys.Headers {
    HttpHeaders headers = EmptyHttpHeaders.INSTANCE;
    /** The request when it arrived as bytes: read without a header map. */
    @Nullable RawRequest raw;

    @Override
    public @Nullable String get(String name) {
      RawRequest r = raw;
      if (r != null) {
        CharSequence value = r.get(name);
        return value == null ? null : value.toString();
      }
      return headers.get(name);
    }

    @Override
    public List<String> getAll(String name) {
      RawRequest r = raw;
      return r != null ? r.getAll(name) : headers.getAll(name);
    }
  }
}
