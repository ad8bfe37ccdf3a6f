package dev.lb.proxy;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import dev.lb.backend.Backend;
import dev.lb.config.BackendConfig;
import dev.lb.config.KeySource;
import dev.lb.log.AccessLog;
import dev.lb.log.AccessLogMessage;
import dev.lb.pool.EmbeddedPool;
import dev.lb.ratelimit.CidrSet;
import dev.lb.ratelimit.ClientKeys;
import dev.lb.ratelimit.Limit;
import dev.lb.ratelimit.LimitRegistry;
import dev.lb.ratelimit.LocalRateLimiter;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Map.Entry;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Runs one fuzz input through lb's client pipeline (built by {@link ProxyInitializer}: HTTP codec, guard, timeouts,
 * optional rate-limit slot, balancing handler) on an {@link EmbeddedChannel}, with embedded backend connections
 * that have the real backend pipeline and answer like a (sometimes misbehaving) backend. Every byte lb writes
 * upstream is read by a {@link StrictRequestParser}; the run then checks:
 *
 * <ul>
 *   <li>no request goes upstream with both {@code Content-Length} and {@code Transfer-Encoding}, with CR, LF or NUL
 *       inside a header, or with anything else a strict parser refuses;
 *   <li>every upstream request is one the client sent and lb decoded, in order (a retry after the backend closed
 *       without answering may repeat it), so lb never emits more upstream requests than it was sent;
 *   <li>lb never writes more final responses than requests it decoded (plus one 408), nor a response header with CR,
 *       LF or NUL;
 *   <li>once every timeout passed, the connection is closed, or has answered every request and reads again;
 *   <li>no handler throws an exception lb did not expect (it would log a warning and cut the connection);
 *   <li>every buffer allocated on either side is released once the connections closed, and no backend is left
 *       with a request counted as active.
 * </ul>
 *
 * <p>Input layout (bytes missing at the end count as 0):
 *
 * <pre>
 * [0] flags: 1 rate-limit slot (2 tokens), 2 max_body_size 32, 4 first backend refuses connections,
 *            8 access log on, 16 drain halfway through the input
 * [1] read split: 0 one read for everything, n reads of 1..n bytes
 * [2] clock: low nibble = chance in 16 that time jumps after a read; 0x80 = let every timer fire at the end,
 *     then check that the connection is closed or idle with every request answered (else the client just leaves)
 * [3..6] backend behaviour of the 1st to 8th request on the upstream side, a nibble each (low nibble first),
 *        repeating; 0 = 200 with Content-Length (see {@link Behaviour})
 * [7..] the bytes the client sends
 * </pre>
 */
final class FrontendHarness {
  static final int HEADER = 7;

  static final int RATE_LIMIT = 1;
  static final int SMALL_BODY_LIMIT = 2;
  static final int FIRST_REFUSES = 4;
  static final int ACCESS_LOG = 8;
  static final int DRAIN_HALFWAY = 16;

  static final int SETTLE_TIMERS = 0x80;

  /** {@code -Dlb.fuzz.trace=true} prints every byte written on either side (to replay a finding by hand). */
  private static final boolean TRACE = Boolean.getBoolean("lb.fuzz.trace");

  /** What the backend does with a request, by nibble. */
  enum Behaviour {
    OK_LENGTH, OK_CHUNKED, NO_CONTENT, CONTINUE_THEN_OK, CLOSE_SILENTLY, STALL, CLOSE_DELIMITED, SWITCH_PROTOCOLS,
    GARBAGE, EARLY_413, SPLIT_HEAD, OK_THEN_CLOSE, OK_LENGTH_2, OK_CHUNKED_2, OK_LENGTH_3, NO_CONTENT_2
  }

  /** What a run saw, for reports and for tests of the harness itself. */
  record Outcome(int reads, int decoded, int upstream, int dropped, int responses, int buffers) {}

  private final byte[] input;
  private final int flags;
  private final Consumer<ChannelPipeline> backendTamper;
  private final TrackingAllocator alloc = new TrackingAllocator();
  private final List<String> violations = new ArrayList<>();
  private final AtomicLong limiterClock = new AtomicLong(1_000_000_000_000L);

  private final List<Downstream> downstream = new ArrayList<>();
  private int decodedHeads;
  private int finalResponses;
  private final List<StrictRequestParser.Request> upstream = new ArrayList<>();
  private StrictRequestParser.Request lastUpstream;
  private int matched = -1;
  private int behaviourIndex;

  private final ArrayDeque<Pending> toAnswer = new ArrayDeque<>();
  private final List<Conn> conns = new ArrayList<>();
  private final Map<StrictRequestParser, Conn> byParser = new HashMap<>();
  private final Map<StrictRequestParser.Request, Behaviour> behaviours = new HashMap<>();

  private Backend b1;
  private Backend b2;
  private EmbeddedChannel client;
  private boolean readRequested;

  private record Downstream(String method, String uri, boolean ok) {}

  private record Pending(Conn conn, StrictRequestParser.Request request, Behaviour behaviour) {}

  private static final class Conn {
    final EmbeddedChannel channel;
    final Backend backend;
    StrictRequestParser parser;

    Conn(EmbeddedChannel channel, Backend backend) {
      this.channel = channel;
      this.backend = backend;
    }
  }

  private FrontendHarness(byte[] input, Consumer<ChannelPipeline> backendTamper) {
    this.input = input;
    this.flags = at(0);
    this.backendTamper = backendTamper;
  }

  /** Runs the input; throws {@link AssertionError} listing every invariant it broke. */
  static Outcome run(byte[] input) {
    return run(input, p -> {});
  }

  /** As {@link #run(byte[])}, with a hook on each new backend pipeline (tests of the harness break lb with it). */
  static Outcome run(byte[] input, Consumer<ChannelPipeline> backendTamper) {
    return new FrontendHarness(input, backendTamper).go();
  }

  private int at(int i) {
    return i < input.length ? input[i] & 0xff : 0;
  }

  // ---------------------------------------------------------------- the run

  private Outcome go() {
    WarningRecorder.install();
    WarningRecorder.drain();
    b1 = backend(8081);
    b2 = backend(8082);
    ProxySettings settings = TestSettings.settings((flags & SMALL_BODY_LIMIT) != 0 ? 32 : 0);
    ProxyContext context = new ProxyContext(settings,
        TestSettings.routing(b1, b2),
        (flags & ACCESS_LOG) != 0 ? countingLog() : AccessLog.DISABLED);
    LocalRateLimiter limiter = (flags & RATE_LIMIT) == 0 ? null
        : new LocalRateLimiter(new LimitRegistry(new Limit(2, 1), Map.of()), limiterClock::get, 100, false);
    if (limiter != null) {
      context.rateLimitHandlers(
          () -> new RateLimitHandler(limiter, new ClientKeys(KeySource.CLIENT_ADDRESS, CidrSet.EMPTY), true));
    }
    EmbeddedPool pool = new EmbeddedPool().onOpen(this::openBackend);
    if ((flags & FIRST_REFUSES) != 0) {
      pool.refuse(b1);
    }

    int reads = 0;
    Throwable failure = null;
    try {
      client = new EmbeddedChannel();
      client.config().setAllocator(alloc);
      EmbeddedClients.install(client, context, pool);
      ChannelPipeline p = client.pipeline();
      p.addFirst("reads", new ReadRequests());
      p.addAfter(HandlerNames.SERVER_CODEC, "observe", new Observer());

      reads = feedClient(context);
      if ((at(2) & SETTLE_TIMERS) != 0) {
        settle();
      }
      client.close();
      pump();
    } catch (Throwable t) {
      failure = t;
    } finally {
      try {
        if (client != null) {
          client.finishAndReleaseAll();
        }
      } catch (Throwable t) {
        failure = failure == null ? t : failure;
      }
      for (Conn c : conns) {
        c.channel.finishAndReleaseAll();
      }
      if (limiter != null) {
        limiter.close();
      }
    }
    if (failure != null) {
      throw new AssertionError("lb threw on input " + describe() + ": " + failure, failure);
    }
    checkEnd();
    for (String warning : WarningRecorder.drain()) {
      violations.add("lb logged " + warning);
    }
    if (!violations.isEmpty()) {
      throw new AssertionError(violations.size() + " invariant(s) broken by input " + describe() + ":\n  "
          + String.join("\n  ", violations));
    }
    int dropped = 0;
    for (StrictRequestParser.Request r : upstream) {
      dropped += r.dropped ? 1 : 0;
    }
    return new Outcome(reads, decodedHeads, upstream.size(), dropped, finalResponses, alloc.count());
  }

  /**
   * Lets every timeout pass (backends still silent by then stay so); the connection must then be closed, or have
   * answered every request it decoded and be reading again: a connection that waits for nothing must not hang.
   */
  private void settle() {
    for (int i = 0; i < 4 && client.isOpen(); i++) {
      advance(TestSettings.IDLE_TIMEOUT_MS + TestSettings.RESPONSE_TIMEOUT_MS);
      pump();
    }
    if (client.isOpen()) {
      if (finalResponses < decodedHeads) {
        violations.add("connection still open with " + (decodedHeads - finalResponses) + " of " + decodedHeads
            + " requests unanswered after every timeout passed");
      }
      if (!client.config().isAutoRead()) {
        violations.add("connection still open but no longer read after every timeout passed");
      }
    }
  }

  /** Sends the client's bytes in reads, as a socket would: only while lb reads. */
  private int feedClient(ProxyContext context) {
    int from = Math.min(HEADER, input.length);
    int split = at(1);
    SplittableRandom splits = new SplittableRandom(split);
    int clock = at(2) & 0x0f;
    SplittableRandom clockRandom = new SplittableRandom(at(2));
    int halfway = from + (input.length - from) / 2;
    boolean drained = (flags & DRAIN_HALFWAY) == 0;
    int reads = 0;
    int waits = 0;
    while (from < input.length && client.isOpen()) {
      if (!client.config().isAutoRead() && !readRequested) {
        // lb is not reading (a backend is being reached, or requests wait): time passes for the client.
        if (++waits > 3) {
          break;
        }
        advance(TestSettings.IDLE_TIMEOUT_MS);
        pump();
        continue;
      }
      readRequested = false;
      int n = split == 0 ? input.length - from : 1 + splits.nextInt(split);
      int to = Math.min(input.length, from + n);
      client.writeInbound(alloc.copyOf(input, from, to));
      reads++;
      from = to;
      pump();
      if (clock != 0 && clockRandom.nextInt(16) < clock) {
        long[] jumps = {50, TestSettings.HEADER_TIMEOUT_MS, TestSettings.RESPONSE_TIMEOUT_MS,
            TestSettings.IDLE_TIMEOUT_MS};
        advance(jumps[clockRandom.nextInt(jumps.length)]);
        pump();
      }
      if (!drained && from >= halfway) {
        drained = true;
        context.startDraining();
        client.pipeline().fireUserEventTriggered(ProxyHandler.DRAIN);
        pump();
      }
    }
    return reads;
  }

  private void advance(long millis) {
    limiterClock.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
    client.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
    client.runScheduledPendingTasks();
    client.runPendingTasks();
  }

  /** Lets the backends answer what they received, until nothing is left to do. */
  private void pump() {
    for (int guard = 0; guard < 100_000; guard++) {
      client.runPendingTasks();
      drainOutbound();
      Pending next = toAnswer.poll();
      if (next == null) {
        return;
      }
      answer(next);
    }
    violations.add("the exchange did not settle");
  }

  private void drainOutbound() {
    release(client);
    for (Conn c : conns) {
      c.channel.runPendingTasks();
      release(c.channel);
    }
  }

  private static void release(EmbeddedChannel ch) {
    for (Object m; (m = ch.readOutbound()) != null; ) {
      if (TRACE) {
        System.out.println("wrote on " + ch + ": " + StrictRequestParser.show(((ByteBuf) m).toString(ISO_8859_1)));
      }
      ReferenceCountUtil.release(m);
    }
  }

  // ---------------------------------------------------------------- the backend side

  private void answer(Pending p) {
    EmbeddedChannel ch = p.conn.channel;
    if (!ch.isOpen() || p.conn.parser.broken()) {
      return;
    }
    boolean head = p.request.method.equals("HEAD");
    switch (p.behaviour) {
      case OK_LENGTH, OK_LENGTH_2, OK_LENGTH_3, EARLY_413 -> {
        if (p.behaviour == Behaviour.EARLY_413) {
          respond(ch, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n");
        } else {
          respond(ch, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" + (head ? "" : "hi"));
        }
      }
      case OK_CHUNKED, OK_CHUNKED_2 -> respond(ch, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          + (head ? "" : "2\r\nhi\r\n0\r\nX-Trailer: t\r\n\r\n"));
      case NO_CONTENT, NO_CONTENT_2 -> respond(ch, "HTTP/1.1 204 No Content\r\n\r\n");
      case CONTINUE_THEN_OK -> {
        respond(ch, "HTTP/1.1 100 Continue\r\n\r\n");
        respond(ch, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
      }
      case CLOSE_SILENTLY -> {
        p.request.dropped = true;
        ch.close();
      }
      case STALL -> { }
      case CLOSE_DELIMITED -> {
        respond(ch, "HTTP/1.1 200 OK\r\n\r\n" + (head ? "" : "until close"));
        ch.close();
      }
      case SWITCH_PROTOCOLS -> {
        if (p.request.has("upgrade", "websocket") && p.request.has("connection", "upgrade")) {
          p.conn.parser.tunnel();
        } else {
          // Unasked for: a malformed answer to lb, which may send the request again (idempotent, bodyless).
          p.request.dropped = true;
        }
        respond(ch, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
      }
      case GARBAGE -> {
        // No response at all as far as the contract goes: lb may send the request again (idempotent, bodyless).
        p.request.dropped = true;
        respond(ch, "NOT HTTP\r\n\r\n");
      }
      case SPLIT_HEAD -> {
        respond(ch, "HTTP/1.1 200 OK\r\nContent-Le");
        respond(ch, "ngth: 3\r\n\r\n" + (head ? "" : "abc"));
      }
      case OK_THEN_CLOSE -> {
        respond(ch, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" + (head ? "" : "hi"));
        ch.close();
      }
      default -> throw new IllegalStateException(p.behaviour.name());
    }
  }

  private void respond(EmbeddedChannel ch, String raw) {
    if (ch.isOpen()) {
      byte[] bytes = raw.getBytes(ISO_8859_1);
      ch.writeInbound(alloc.copyOf(bytes, 0, bytes.length));
    }
  }

  private Behaviour nextBehaviour() {
    int i = behaviourIndex++ % 8;
    int b = at(3 + i / 2);
    return Behaviour.values()[(i % 2 == 0 ? b : b >> 4) & 0x0f];
  }

  private final StrictRequestParser.Listener upstreamListener = new StrictRequestParser.Listener() {
    @Override
    public void onHead(StrictRequestParser parser, StrictRequestParser.Request request) {
      matchUpstream(request);
      Behaviour behaviour = nextBehaviour();
      behaviours.put(request, behaviour);
      if (behaviour == Behaviour.EARLY_413) {
        toAnswer.add(new Pending(byParser.get(parser), request, behaviour));
      }
    }

    @Override
    public void onComplete(StrictRequestParser parser, StrictRequestParser.Request request) {
      Behaviour behaviour = behaviours.remove(request);
      if (behaviour != null && behaviour != Behaviour.EARLY_413) {
        toAnswer.add(new Pending(byParser.get(parser), request, behaviour));
      }
    }
  };

  /** Pairs an upstream request with the next downstream one it can stand for; a retry may repeat the last. */
  private void matchUpstream(StrictRequestParser.Request up) {
    upstream.add(up);
    StrictRequestParser.Request previous = lastUpstream;
    lastUpstream = up;
    if (previous != null && previous.dropped && matched >= 0 && same(downstream.get(matched), up)) {
      return;
    }
    for (int j = matched + 1; j < downstream.size(); j++) {
      Downstream d = downstream.get(j);
      if (d.ok() && same(d, up)) {
        matched = j;
        return;
      }
    }
    violations.add("upstream request " + StrictRequestParser.show(up.toString())
        + " stands for no request the client sent (downstream " + downstream + ", already paired "
        + (matched + 1) + ")");
  }

  private static boolean same(Downstream d, StrictRequestParser.Request up) {
    return d.method().equals(up.method) && (d.uri().equals(up.target) || asEncoded(d.uri()).equals(up.target));
  }

  /** The target as Netty's request encoder writes it: an absolute-form target with no path gets "/". */
  private static String asEncoded(String uri) {
    int scheme = uri.indexOf("://");
    if (scheme == -1 || uri.charAt(0) == '/') {
      return uri;
    }
    int authority = scheme + 3;
    int query = uri.indexOf('?', authority);
    if (query == -1) {
      return uri.lastIndexOf('/') < authority ? uri + '/' : uri;
    }
    return uri.lastIndexOf('/', query) < authority ? uri.substring(0, query) + '/' + uri.substring(query) : uri;
  }

  // ---------------------------------------------------------------- the end

  private void checkEnd() {
    int dropped = 0;
    for (StrictRequestParser.Request r : upstream) {
      dropped += r.dropped ? 1 : 0;
    }
    int forwardable = 0;
    for (Downstream d : downstream) {
      forwardable += d.ok() ? 1 : 0;
    }
    if (upstream.size() - dropped > forwardable) {
      violations.add("more upstream requests (" + upstream.size() + ", " + dropped
          + " of them unanswered and so retryable) than requests decoded from the client (" + forwardable + ")");
    }
    if (finalResponses > decodedHeads + 1) {
      violations.add(finalResponses + " final responses to " + decodedHeads + " requests");
    }
    for (Backend b : List.of(b1, b2)) {
      if (b.activeRequests() != 0) {
        violations.add(b.url() + " left with " + b.activeRequests() + " active request(s)");
      }
    }
    List<String> leaked = alloc.unreleased();
    if (!leaked.isEmpty()) {
      violations.add(leaked.size() + " buffer(s) of " + alloc.count() + " not released after the connections closed: "
          + leaked);
    }
  }

  private String describe() {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format("[flags=%d split=%d clock=0x%02x behaviours=%02x%02x%02x%02x] ",
        at(0), at(1), at(2), at(3), at(4), at(5), at(6)));
    int from = Math.min(HEADER, input.length);
    sb.append(StrictRequestParser.show(new String(input, from, input.length - from, ISO_8859_1)));
    return sb.toString();
  }

  private static Backend backend(int port) {
    return new Backend(new BackendConfig("http://127.0.0.1:" + port, "127.0.0.1", port, 1));
  }

  private static AccessLog countingLog() {
    return new AccessLog() {
      @Override
      public boolean enabled() {
        return true;
      }

      @Override
      public void log(AccessLogMessage message) {
        message.get(AccessLogMessage.STATUS);
      }
    };
  }

  // ---------------------------------------------------------------- handlers

  /** Sees {@code read()} calls, which with auto-read off ask for one more read. */
  private final class ReadRequests extends ChannelOutboundHandlerAdapter {
    @Override
    public void read(ChannelHandlerContext ctx) {
      readRequested = true;
      ctx.read();
    }
  }

  /** Between the codec and the guard: records what lb decoded, and checks every response head it writes. */
  private final class Observer extends ChannelDuplexHandler {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpRequest r) {
        decodedHeads++;
        downstream.add(new Downstream(r.method().name(), r.uri(), r.decoderResult().isSuccess()));
      }
      ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (msg instanceof HttpResponse res) {
        int code = res.status().code();
        if (code >= 200 || code == 101) {
          finalResponses++;
        }
        checkFields("response " + code, res.headers());
      }
      if (msg instanceof LastHttpContent last) {
        checkFields("response trailers", last.trailingHeaders());
      }
      ctx.write(msg, promise);
    }

    private void checkFields(String where, HttpHeaders headers) {
      for (Entry<String, String> e : headers) {
        String name = e.getKey();
        String value = e.getValue();
        if (!StrictRequestParser.isToken(name) || value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0
            || value.indexOf('\0') >= 0) {
          violations.add(where + " carries a bad field: " + StrictRequestParser.show(name + ": " + value));
        }
      }
    }
  }

  /** Copies every byte lb writes to a backend connection into that connection's strict parser. */
  private final class Recorder extends ChannelOutboundHandlerAdapter {
    private final Conn conn;

    Recorder(Conn conn) {
      this.conn = conn;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (msg instanceof ByteBuf buf) {
        byte[] bytes = new byte[buf.readableBytes()];
        buf.getBytes(buf.readerIndex(), bytes);
        conn.parser.feed(bytes);
      } else {
        violations.add("unexpected message written upstream: " + msg.getClass().getName());
      }
      ctx.write(msg, promise);
    }
  }

  /** Prepares a backend connection the pool opened: upstream bytes go through a {@link Recorder} first. */
  private void openBackend(Backend backend, EmbeddedChannel ch) {
    ch.config().setAllocator(alloc);
    Conn conn = new Conn(ch, backend);
    conn.parser = new StrictRequestParser("upstream connection " + conns.size() + " to " + backend.url(),
        upstreamListener, violations);
    byParser.put(conn.parser, conn);
    conns.add(conn);
    ch.pipeline().addFirst("record", new Recorder(conn));
    backendTamper.accept(ch.pipeline());
  }
}
