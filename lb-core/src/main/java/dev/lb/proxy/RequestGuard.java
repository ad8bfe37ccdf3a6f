package dev.lb.proxy;

import dev.lb.pool.RawRequest;
import dev.lb.pool.TrailerFields;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Guards a client connection, right after {@link FrontendCodec}: refuses malformed, ambiguous or oversized requests
 * (as a {@link RejectedRequest} passed on in their place, or a {@link RequestRejectedException} when the body turns
 * out bad after the head went on), by the rules of {@link RequestSyntax}, {@code max_body_size} and the field count
 * limit, and passes accepted heads on with their framing fields in their plain spelling. The connection's timeouts
 * are {@link ClientTimeouts}', next in the pipeline.
 *
 * <p>Trailer fields that must not be trailers ({@link TrailerFields}) are dropped from a request's last content
 * before it goes on.
 *
 * <p>Buffers: every message read is passed on, or released here when refused or discarded.
 */
public final class RequestGuard extends ChannelInboundHandlerAdapter {
  private final Supplier<ProxySettings> settingsSource;
  private ProxySettings settings;

  private long bodyBytes;
  /** After a refusal that closes the connection, everything read is dropped. */
  private boolean discarding;

  /** A guard whose settings never change. */
  public RequestGuard(ProxySettings settings) {
    this(() -> settings);
  }

  /** A guard that reads its settings again at each request, so that a reload applies from the next one. */
  public RequestGuard(Supplier<ProxySettings> settings) {
    this.settingsSource = settings;
    this.settings = settings.get();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
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
    bodyBytes = 0;
    if (request instanceof RawRequest && !((RawRequest) request).decoded()) {
      // The codec's scanner took it only after the checks below would have passed: bodiless, one valid Host.
      ctx.fireChannelRead(request);
      return;
    }
    long length = RequestSyntax.contentLength(request.headers());
    HttpResponseStatus refusal = refusal(request, length);
    if (refusal != null) {
      discarding = true;
      if (length == RequestSyntax.INVALID_LENGTH) {
        // The connection closes without reading a body: a length nothing downstream could parse has no use.
        request.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
      }
      ctx.fireChannelRead(new RejectedRequest(request, refusal, true));
      ReferenceCountUtil.release(request);
      return;
    }
    RequestSyntax.normaliseFraming(request.headers(), length);
    if (request instanceof HttpContent) {
      onContent(ctx, (HttpContent) request);
      return;
    }
    ctx.fireChannelRead(request);
  }

  private void onContent(ChannelHandlerContext ctx, HttpContent content) {
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
    }
    ctx.fireChannelRead(content);
  }

  private void reject(ChannelHandlerContext ctx, HttpContent content, HttpResponseStatus status, String why) {
    ReferenceCountUtil.release(content);
    discarding = true;
    ctx.fireExceptionCaught(new RequestRejectedException(status, why));
  }

  /**
   * Why this request head must not go on, or null when it may; {@code length} is its
   * {@link RequestSyntax#contentLength}.
   */
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
    if (!RequestSyntax.validTarget(uri)
        || (uri.length() == 1 && uri.charAt(0) == '*' && !HttpMethod.OPTIONS.equals(request.method()))) {
      return HttpResponseStatus.BAD_REQUEST;
    }
    String host = headers.get(HttpHeaderNames.HOST);
    if (host == null
        ? version.minorVersion() >= 1
        : !RequestSyntax.validHost(host) || headers.getAll(HttpHeaderNames.HOST).size() > 1) {
      return HttpResponseStatus.BAD_REQUEST;
    }
    if (host != null && !RequestSyntax.authorityMatches(uri, host)) {
      return HttpResponseStatus.BAD_REQUEST;
    }
    if (version.minorVersion() == 0 && headers.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
      return HttpResponseStatus.BAD_REQUEST;
    }
    if (length == RequestSyntax.INVALID_LENGTH) {
      return HttpResponseStatus.BAD_REQUEST;
    }
    long max = settings.maxBodySize();
    if (max > 0 && length > max) {
      return HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE;
    }
    return null;
  }
}
