package dev.lb.proxy;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Ticker;
import java.util.concurrent.ScheduledFuture;
import org.jspecify.annotations.Nullable;

/**
 * Guards a client connection, right after {@link FrontendCodec}: refuses malformed, ambiguous or oversized requests
 * (as a {@link RejectedRequest} passed on in their place, or a {@link RequestRejectedException} when the body turns
 * out bad after the head went on), and enforces the connection's timeouts:
 *
 * <ul>
 *   <li>{@code request_header_timeout}: a request head must arrive whole within it, counted from the connection's
 *       start for the first request and from the first byte for later ones; 408 if some of it came (then a lingering
 *       close of at most {@link LingeringClose#TIMEOUT_LIMIT}), a silent close if nothing did;
 *   <li>{@code idle_timeout}: a keep-alive connection with no request is closed after it, and so is one whose request
 *       or response body stalls that long (but not one waiting for the backend's response head, which
 *       {@code response_timeout} governs).
 * </ul>
 *
 * <p>Trailer fields that must not be trailers ({@link TrailerFields}) are dropped from a request's last content
 * before it goes on.
 *
 * <p>One timer per connection, re-armed lazily when it fires, so serving a request schedules nothing.
 *
 * <p>Buffers: every message read is passed on, or released here when refused or discarded; outbound messages are
 * only observed.
 */
public final class RequestGuard extends ChannelDuplexHandler {
  private final java.util.function.Supplier<ProxySettings> settingsSource;
  private ProxySettings settings;

  private @Nullable ChannelHandlerContext ctx;
  private Ticker ticker = Ticker.systemTicker();
  private @Nullable ScheduledFuture<?> timer;
  private long timerDeadline;
  private final Runnable onTimer = this::onTimer;

  /** Whether no request head has arrived yet on this connection. */
  private boolean first = true;
  /** Start of the wait for the next request: connection start, then the end of each response. */
  private long idleSince;
  /** When the first byte of a pending request head was seen, or 0 when none was. */
  private long headSince;
  private boolean readMessage;
  private long lastActivity;

  private long requestsSeen;
  private long requestsCompleted;
  private long responsesCompleted;
  private boolean responseStarted;
  private boolean informational;

  private long bodyBytes;
  /** After a refusal that closes the connection, everything read is dropped. */
  private boolean discarding;

  /** A guard whose settings never change. */
  public RequestGuard(ProxySettings settings) {
    this(() -> settings);
  }

  /** A guard that reads its settings again at each request and each timer, so that a reload applies. */
  public RequestGuard(java.util.function.Supplier<ProxySettings> settings) {
    this.settingsSource = settings;
    this.settings = settings.get();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.ticker = ctx.executor().ticker();
    idleSince = ticker.nanoTime();
    arm(idleSince + settings.headerTimeoutNanos());
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cancelTimer();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    cancelTimer();
    super.channelInactive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    readMessage = true;
    if (discarding) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpRequest) {
      onRequest(ctx, (HttpRequest) msg);
    } else if (msg instanceof HttpContent) {
      onContent(ctx, (HttpContent) msg);
    } else {
      ctx.fireChannelRead(msg);
    }
  }

  private void onRequest(ChannelHandlerContext ctx, HttpRequest request) {
    settings = settingsSource.get();
    first = false;
    headSince = 0;
    lastActivity = ticker.nanoTime();
    armBy(lastActivity + settings.idleTimeoutNanos());
    requestsSeen++;
    bodyBytes = 0;
    long length = contentLength(request.headers());
    HttpResponseStatus refusal = refusal(request, length);
    if (refusal != null) {
      discarding = true;
      if (length == INVALID_LENGTH) {
        // The connection closes without reading a body: a length nothing downstream could parse has no use.
        request.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
      }
      ctx.fireChannelRead(new RejectedRequest(request, refusal, true));
      ReferenceCountUtil.release(request);
      return;
    }
    normaliseFraming(request.headers(), length);
    if (request instanceof HttpContent) {
      onContent(ctx, (HttpContent) request);
      return;
    }
    ctx.fireChannelRead(request);
  }

  /**
   * Rewrites the framing fields of an accepted request to their one plain spelling, so that no hop after this one
   * can read the length differently: {@code Content-Length} as the decimal number it is ({@code 0003} becomes
   * {@code 3}), {@code Transfer-Encoding} as one field of lower-case codings without empty list elements
   * ({@code , ChUnKeD} becomes {@code chunked}).
   *
   * @param length the accepted request's {@link #contentLength(HttpHeaders)}: -1, or the one valid value
   */
  static void normaliseFraming(HttpHeaders headers, long length) {
    if (length >= 0) {
      // Digits only, so the plain spelling differs only by leading zeros.
      String value = headers.get(HttpHeaderNames.CONTENT_LENGTH);
      if (value.length() > 1 && value.charAt(0) == '0') {
        headers.set(HttpHeaderNames.CONTENT_LENGTH, Long.toString(length));
      }
    }
    if (headers.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
      java.util.List<String> values = headers.getAll(HttpHeaderNames.TRANSFER_ENCODING);
      StringBuilder codings = new StringBuilder(16);
      for (String value : values) {
        for (String coding : value.split(",")) {
          String c = coding.trim();
          if (!c.isEmpty()) {
            codings.append(codings.length() == 0 ? "" : ", ").append(c.toLowerCase(java.util.Locale.ROOT));
          }
        }
      }
      String plain = codings.toString();
      if (values.size() != 1 || !plain.equals(values.get(0))) {
        headers.set(HttpHeaderNames.TRANSFER_ENCODING, plain);
      }
    }
  }

  private void onContent(ChannelHandlerContext ctx, HttpContent content) {
    lastActivity = ticker.nanoTime();
    DecoderResult result = content.decoderResult();
    if (result.isFailure()) {
      reject(ctx, content, HttpResponseStatus.BAD_REQUEST, "malformed body: " + result.cause());
      return;
    }
    bodyBytes += content.content().readableBytes();
    long max = settings.maxBodySize();
    if (max > 0 && bodyBytes > max) {
      reject(ctx, content, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "body over " + max + " bytes");
      return;
    }
    if (content instanceof LastHttpContent) {
      if (((LastHttpContent) content).trailingHeaders().size() > ProxySettings.MAX_HEADER_COUNT) {
        reject(ctx, content, HttpResponseStatus.BAD_REQUEST, "over " + ProxySettings.MAX_HEADER_COUNT + " trailers");
        return;
      }
      TrailerFields.strip(((LastHttpContent) content).trailingHeaders());
      requestsCompleted++;
    }
    ctx.fireChannelRead(content);
  }

  private void reject(ChannelHandlerContext ctx, HttpContent content, HttpResponseStatus status, String why) {
    ReferenceCountUtil.release(content);
    discarding = true;
    ctx.fireExceptionCaught(new RequestRejectedException(status, why));
  }

  /** Why this request head must not go on, or null when it may; {@code length} is its {@link #contentLength}. */
  private @Nullable HttpResponseStatus refusal(HttpRequest request, long length) {
    DecoderResult result = request.decoderResult();
    if (result.isFailure()) {
      Throwable cause = result.cause();
      if (cause instanceof TooLongHttpLineException) {
        return HttpResponseStatus.REQUEST_URI_TOO_LONG;
      }
      if (cause instanceof TooLongHttpHeaderException) {
        return HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
      }
      return HttpResponseStatus.BAD_REQUEST;
    }
    HttpHeaders headers = request.headers();
    if (headers.size() > ProxySettings.MAX_HEADER_COUNT) {
      return HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
    }
    HttpVersion version = request.protocolVersion();
    if (version.majorVersion() != 1) {
      return HttpResponseStatus.BAD_REQUEST;
    }
    if (HttpMethod.CONNECT.equals(request.method())) {
      return HttpResponseStatus.METHOD_NOT_ALLOWED;
    }
    String uri = request.uri();
    if (!validTarget(uri) || (uri.length() == 1 && uri.charAt(0) == '*' && !HttpMethod.OPTIONS.equals(request.method()))) {
      return HttpResponseStatus.BAD_REQUEST;
    }
    String host = headers.get(HttpHeaderNames.HOST);
    if (host == null ? version.minorVersion() >= 1 : !validHost(host) || headers.getAll(HttpHeaderNames.HOST).size() > 1) {
      return HttpResponseStatus.BAD_REQUEST;
    }
    if (host != null && !authorityMatches(uri, host)) {
      return HttpResponseStatus.BAD_REQUEST;
    }
    if (version.minorVersion() == 0 && headers.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
      return HttpResponseStatus.BAD_REQUEST;
    }
    if (length == INVALID_LENGTH) {
      return HttpResponseStatus.BAD_REQUEST;
    }
    long max = settings.maxBodySize();
    if (max > 0 && length > max) {
      return HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE;
    }
    return null;
  }

  /** What {@link #contentLength(HttpHeaders)} answers for a Content-Length that is not exactly one number. */
  static final long INVALID_LENGTH = -2;

  /**
   * The request's Content-Length: -1 when it has none, {@link #INVALID_LENGTH} unless there is exactly one field whose
   * value is digits only (RFC 9110 8.6) and fits in 63 bits. Lists, signs, spaces and repeats are all refused, even
   * when every value is the same.
   */
  static long contentLength(HttpHeaders headers) {
    String value = headers.get(HttpHeaderNames.CONTENT_LENGTH);
    if (value == null) {
      return -1;
    }
    if (headers.getAll(HttpHeaderNames.CONTENT_LENGTH).size() != 1) {
      return INVALID_LENGTH;
    }
    int n = value.length();
    if (n == 0) {
      return INVALID_LENGTH;
    }
    long length = 0;
    for (int i = 0; i < n; i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return INVALID_LENGTH;
      }
      if (length > (Long.MAX_VALUE - (c - '0')) / 10) {
        return INVALID_LENGTH;
      }
      length = length * 10 + (c - '0');
    }
    return length;
  }

  /**
   * A request target is origin-form ({@code /path?query}), absolute-form ({@code http://authority/path}, without
   * userinfo) or {@code *}, in visible ASCII: no spaces, controls, fragment, or bytes a later hop could split on.
   */
  static boolean validTarget(String uri) {
    int n = uri.length();
    if (n == 0) {
      return false;
    }
    int start;
    char first = uri.charAt(0);
    if (first == '/') {
      start = 1;
    } else if (n == 1 && first == '*') {
      return true;
    } else {
      int authority = schemeEnd(uri);
      if (authority < 0) {
        return false;
      }
      int end = authorityEnd(uri, authority);
      if (end == authority || !validHost(uri.substring(authority, end))) {
        return false;
      }
      start = end;
    }
    for (int i = start; i < n; i++) {
      char c = uri.charAt(i);
      if (c <= ' ' || c >= 0x7f || c == '#') {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether an absolute-form target names the same authority as the Host field (ignoring case), so that a backend
   * routing on either sees the same one; true for the other forms, which carry no authority.
   */
  static boolean authorityMatches(String uri, String host) {
    int start = schemeEnd(uri);
    if (start < 0) {
      return true;
    }
    int end = authorityEnd(uri, start);
    return end - start == host.length() && uri.regionMatches(true, start, host, 0, host.length());
  }

  /** Where the authority that starts at {@code start} ends: at the path, the query, or the end of the target. */
  private static int authorityEnd(String uri, int start) {
    int end = start;
    while (end < uri.length() && uri.charAt(end) != '/' && uri.charAt(end) != '?') {
      end++;
    }
    return end;
  }

  /** Where the authority starts after {@code http://} or {@code https://} (any case), or -1 for another form. */
  private static int schemeEnd(String uri) {
    if (uri.regionMatches(true, 0, "http://", 0, 7)) {
      return 7;
    }
    if (uri.regionMatches(true, 0, "https://", 0, 8)) {
      return 8;
    }
    return -1;
  }

  private static final boolean[] HOST_CHARS = new boolean[128];

  static {
    for (char c = 'a'; c <= 'z'; c++) {
      HOST_CHARS[c] = true;
      HOST_CHARS[Character.toUpperCase(c)] = true;
    }
    for (char c = '0'; c <= '9'; c++) {
      HOST_CHARS[c] = true;
    }
    // unreserved, pct-encoded, sub-delims, and the ':' '[' ']' of ports and IP literals (RFC 3986 3.2.2)
    for (char c : "-._~%!$&'()*+,;=:[]".toCharArray()) {
      HOST_CHARS[c] = true;
    }
  }

  /**
   * Whether a Host value (or the authority of an absolute-form target) is {@code host[:port]} as RFC 3986 spells it:
   * no whitespace, no userinfo, no path, query or fragment characters, nothing outside ASCII. Empty is valid.
   */
  static boolean validHost(String host) {
    for (int i = 0, n = host.length(); i < n; i++) {
      char c = host.charAt(i);
      if (c >= 128 || !HOST_CHARS[c]) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (!readMessage && !discarding && headSince == 0 && requestsSeen == responsesCompleted) {
      // Bytes arrived but no whole head yet: the head clock starts now (at the connection's start for the first).
      long now = ticker.nanoTime();
      headSince = first ? idleSince : now;
      armBy(headSince + settings.headerTimeoutNanos());
    }
    readMessage = false;
    ctx.fireChannelReadComplete();
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof HttpObject) {
      onWrite((HttpObject) msg);
    }
    ctx.write(msg, promise);
  }

  private void onWrite(HttpObject msg) {
    if (msg instanceof HttpResponse) {
      if (((HttpResponse) msg).status().codeClass() == HttpStatusClass.INFORMATIONAL) {
        informational = true;
      } else {
        responseStarted = true;
        lastActivity = ticker.nanoTime();
      }
    }
    if (msg instanceof LastHttpContent) {
      if (informational) {
        informational = false;
      } else if (responseStarted) {
        responseStarted = false;
        responsesCompleted++;
        idleSince = ticker.nanoTime();
        if (requestsSeen == responsesCompleted) {
          armBy(idleSince + settings.idleTimeoutNanos());
        }
      }
    } else if (msg instanceof HttpContent) {
      lastActivity = ticker.nanoTime();
    }
  }

  private void onTimer() {
    timer = null;
    settings = settingsSource.get();
    ChannelHandlerContext ctx = this.ctx;
    if (ctx == null || !ctx.channel().isActive()) {
      return;
    }
    long now = ticker.nanoTime();
    long deadline;
    boolean idleConnection = requestsSeen == responsesCompleted;
    if (idleConnection && headSince != 0) {
      deadline = headSince + settings.headerTimeoutNanos();
      if (now - deadline >= 0) {
        discarding = true;
        // Lingers (briefly) like lb's other closing answers, so that a client still sending reads its 408.
        LingeringClose.closeAfter(
            ctx.writeAndFlush(ErrorResponses.create(HttpResponseStatus.REQUEST_TIMEOUT, true, RequestIds.generate())),
            LingeringClose.TIMEOUT_LIMIT);
        return;
      }
    } else if (idleConnection) {
      deadline = idleSince + (first ? settings.headerTimeoutNanos() : settings.idleTimeoutNanos());
      if (now - deadline >= 0) {
        ctx.close();
        return;
      }
    } else if (requestsCompleted > responsesCompleted && !responseStarted) {
      // The request is with the backend; response_timeout is the balancing handler's. Look again later.
      deadline = now + settings.idleTimeoutNanos();
    } else {
      deadline = lastActivity + settings.idleTimeoutNanos();
      if (now - deadline >= 0) {
        ctx.close();
        return;
      }
    }
    arm(deadline);
  }

  private void arm(long deadline) {
    ChannelHandlerContext ctx = this.ctx;
    if (ctx == null) {
      return;
    }
    timerDeadline = deadline;
    timer = ctx.executor().schedule(onTimer, Math.max(0, deadline - ticker.nanoTime()), NANOSECONDS);
  }

  /** Makes sure the timer fires no later than {@code deadline}; a later one is re-armed earlier. */
  private void armBy(long deadline) {
    if (timer == null || deadline - timerDeadline < 0) {
      cancelTimer();
      arm(deadline);
    }
  }

  private void cancelTimer() {
    ScheduledFuture<?> t = timer;
    if (t != null) {
      timer = null;
      t.cancel(false);
    }
    timerDeadline = Long.MAX_VALUE;
  }
}
