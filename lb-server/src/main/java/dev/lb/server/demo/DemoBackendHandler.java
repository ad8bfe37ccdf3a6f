package dev.lb.server.demo;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jspecify.annotations.Nullable;

/**
 * Answers each request with 200 and JSON naming this backend: {@code backend}, {@code method}, {@code path} (with the
 * query), {@code headers} (lower-case names; repeated ones joined with {@code ", "}) and {@code body_bytes}. {@code
 * GET /health} answers {@code {"status":"UP"}}. One instance per connection.
 *
 * <p>Buffers: the body is not aggregated; each {@link HttpContent} is counted and released here as it arrives, and
 * the answer is written at {@link LastHttpContent}, so an upload of any size costs no memory. Every HTTP message read
 * is released here; anything else is passed on. Answers are new buffers from the channel's allocator, owned by the
 * pipeline once written. Connection persistence is left to the keep-alive handler in front, which reads the {@code
 * Connection} header this sets.
 */
final class DemoBackendHandler extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LogManager.getLogger(DemoBackendHandler.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final byte[] HEALTHY = "{\"status\":\"UP\"}".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] BAD_REQUEST =
      "{\"code\":400,\"message\":\"Bad request\"}".getBytes(StandardCharsets.US_ASCII);

  private final String name;
  private @Nullable Head head;
  private long bodyBytes;
  private boolean broken;

  DemoBackendHandler(String name) {
    this.name = requireNonNull(name, "name");
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof HttpObject)) {
      ctx.fireChannelRead(msg);
      return;
    }
    try {
      if (msg instanceof HttpRequest) {
        onHead(ctx, (HttpRequest) msg);
      }
      if (msg instanceof HttpContent) {
        onContent(ctx, (HttpContent) msg);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onHead(ChannelHandlerContext ctx, HttpRequest request) {
    if (broken) {
      return;
    }
    if (request.decoderResult().isFailure()) {
      // The codec has lost its place in the stream; answer once and let the connection close.
      broken = true;
      ctx.writeAndFlush(response(ctx, request.protocolVersion(), HttpResponseStatus.BAD_REQUEST, BAD_REQUEST, false));
      return;
    }
    Map<String, String> headers = new LinkedHashMap<>();
    request.headers().forEach(e -> headers.merge(e.getKey().toLowerCase(Locale.ROOT), e.getValue(), Head::join));
    head =
        new Head(
            request.method(), request.uri(), headers, request.protocolVersion(), HttpUtil.isKeepAlive(request));
    bodyBytes = 0;
  }

  private void onContent(ChannelHandlerContext ctx, HttpContent content) {
    Head current = head;
    if (broken || current == null) {
      return;
    }
    if (content.decoderResult().isFailure()) {
      broken = true;
      ctx.close();
      return;
    }
    bodyBytes += content.content().readableBytes();
    if (content instanceof LastHttpContent) {
      head = null;
      ctx.writeAndFlush(
          response(ctx, current.version(), HttpResponseStatus.OK, body(current), current.keepAlive()));
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // Peers resetting connections, mostly; a demo has nobody to tell but the debug log.
    LOG.debug("Demo backend {} connection {} failed, closing it", name, ctx.channel(), cause);
    ctx.close();
  }

  private byte[] body(Head current) {
    boolean health =
        (HttpMethod.GET.equals(current.method()) || HttpMethod.HEAD.equals(current.method()))
            && "/health".equals(new QueryStringDecoder(current.uri()).rawPath());
    if (health) {
      return HEALTHY;
    }
    Map<String, Object> echo = new LinkedHashMap<>();
    echo.put("backend", name);
    echo.put("method", current.method().name());
    echo.put("path", current.uri());
    echo.put("headers", current.headers());
    echo.put("body_bytes", bodyBytes);
    try {
      return JSON.writeValueAsBytes(echo);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("strings and numbers always serialise", e);
    }
  }

  private FullHttpResponse response(
      ChannelHandlerContext ctx, HttpVersion version, HttpResponseStatus status, byte[] body, boolean keepAlive) {
    ByteBuf content = ctx.alloc().buffer(body.length).writeBytes(body);
    FullHttpResponse response = new DefaultFullHttpResponse(version, status, content);
    response.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
        .set("X-Backend", name);
    HttpUtil.setContentLength(response, body.length);
    HttpUtil.setKeepAlive(response, keepAlive);
    return response;
  }

  /** What the answer needs from the request line and headers, kept until the body has ended. */
  private record Head(
      HttpMethod method, String uri, Map<String, String> headers, HttpVersion version, boolean keepAlive) {
    static String join(String a, String b) {
      return a + ", " + b;
    }
  }
}
