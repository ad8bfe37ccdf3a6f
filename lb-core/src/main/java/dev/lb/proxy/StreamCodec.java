package dev.lb.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The first handler of an HTTP/2 stream's channel: it turns the stream's frames into the messages lb's HTTP/1.1
 * request path takes, and that path's response messages back into frames, so that a stream goes through the same
 * guard, timeouts, rate limiter and {@link ProxyHandler} as a request on an HTTP/1.1 connection.
 *
 * <ul>
 *   <li>The request HEADERS become a {@link StreamRequest}: {@code :method} and {@code :path} its request line,
 *       {@code :authority} its {@code Host} (a {@code Host} field that names another authority is refused with 400,
 *       RFC 9113 section 8.3.1), {@code cookie} fields joined with {@code "; "} (section 8.2.3), and a body without
 *       {@code content-length} framed as chunked for the backend. A request without {@code :method} or {@code :path}
 *       (or, but for CONNECT, {@code :scheme}) is malformed: the stream is reset with PROTOCOL_ERROR. CONNECT is
 *       answered 405, as lb does not tunnel over HTTP/2.
 *   <li>DATA frames become body pieces, the one with END_STREAM the last (trailers, a second HEADERS, its fields).
 *   <li>A response head becomes HEADERS ({@code :status}, the connection-specific fields HTTP/2 forbids removed);
 *       an interim one is sent as is; body pieces become DATA; the last piece ends the stream (with trailers as a last
 *       HEADERS frame when there are any).
 * </ul>
 *
 * <p>Flow control is the stream channel's: while lb does not read the stream (the backend is slow to take the body),
 * the client's window is not replenished; while the stream cannot take more (its window is used up), the channel is
 * not writable and lb stops reading the backend.
 *
 * <p>Buffers: a DATA frame's content becomes the body piece passed on; a body piece's content becomes the DATA frame
 * written.
 */
final class StreamCodec extends ChannelDuplexHandler {
  private static final AsciiString COOKIE = HttpHeaderNames.COOKIE;

  /** The request head went on: further HEADERS are trailers. */
  private boolean headRead;

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Http2HeadersFrame) {
      Http2HeadersFrame frame = (Http2HeadersFrame) msg;
      if (!headRead) {
        headRead = true;
        Object request = request(frame.headers(), frame.isEndStream());
        if (request == null) {
          ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.PROTOCOL_ERROR));
          return;
        }
        ctx.fireChannelRead(request);
        if (frame.isEndStream()) {
          ctx.fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT);
        }
      } else {
        LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
        if (!trailers(frame.headers(), last.trailingHeaders())) {
          last.release();
          ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.PROTOCOL_ERROR));
          return;
        }
        ctx.fireChannelRead(last);
      }
    } else if (msg instanceof Http2DataFrame) {
      Http2DataFrame data = (Http2DataFrame) msg;
      ByteBuf content = data.content();
      ctx.fireChannelRead(data.isEndStream() ? new DefaultLastHttpContent(content) : new DefaultHttpContent(content));
    } else {
      // Resets, window updates and other stream frames: Netty acts on them (a reset closes this channel).
      ReferenceCountUtil.release(msg);
    }
  }

  /** The request head, or null when the HEADERS are malformed. */
  private static @Nullable Object request(Http2Headers h2, boolean endStream) {
    CharSequence method = h2.method();
    CharSequence path = h2.path();
    CharSequence authority = h2.authority();
    HttpHeaders headers = DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders();
    StringBuilder cookies = null;
    for (Map.Entry<CharSequence, CharSequence> e : h2) {
      CharSequence name = e.getKey();
      if (name.length() > 0 && name.charAt(0) == ':') {
        continue;
      }
      if (COOKIE.contentEquals(name)) {
        if (cookies == null) {
          cookies = new StringBuilder(e.getValue());
        } else {
          cookies.append("; ").append(e.getValue());
        }
        continue;
      }
      headers.add(name, e.getValue());
    }
    if (cookies != null) {
      headers.set(COOKIE, cookies.toString());
    }
    if (method == null) {
      return null;
    }
    HttpMethod m = HttpMethod.valueOf(method.toString());
    if (HttpMethod.CONNECT.equals(m)) {
      StreamRequest req = new StreamRequest(m, authority == null ? "" : authority.toString(), headers);
      if (authority != null) {
        headers.set(HttpHeaderNames.HOST, authority);
      }
      return new RejectedRequest(req, HttpResponseStatus.METHOD_NOT_ALLOWED, false);
    }
    if (path == null || path.length() == 0 || h2.scheme() == null) {
      return null;
    }
    StreamRequest req = new StreamRequest(m, path.toString(), headers);
    if (authority != null) {
      String host = headers.get(HttpHeaderNames.HOST);
      if (host != null && !AsciiString.contentEqualsIgnoreCase(host, authority)) {
        headers.set(HttpHeaderNames.HOST, authority);
        return new RejectedRequest(req, HttpResponseStatus.BAD_REQUEST, false);
      }
      headers.set(HttpHeaderNames.HOST, authority);
    }
    if (!endStream && !headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
      headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    return req;
  }

  /** Copies trailer fields; false when a pseudo-header is among them (malformed). */
  private static boolean trailers(Http2Headers h2, HttpHeaders out) {
    for (Map.Entry<CharSequence, CharSequence> e : h2) {
      CharSequence name = e.getKey();
      if (name.length() > 0 && name.charAt(0) == ':') {
        return false;
      }
      out.add(name, e.getValue());
    }
    return true;
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
    if (msg instanceof HttpResponse) {
      HttpResponse res = (HttpResponse) msg;
      if (res.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
        // 100 Continue and other interim answers: HEADERS that do not end the stream; 101 cannot happen here.
        ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status(res.status().codeAsText()), false),
            promise);
        ReferenceCountUtil.release(msg);
        return;
      }
      Http2Headers headers = HttpConversionUtil.toHttp2Headers(res, false);
      if (msg instanceof FullHttpResponse) {
        FullHttpResponse full = (FullHttpResponse) msg;
        ByteBuf body = full.content();
        HttpHeaders trailers = full.trailingHeaders();
        if (!body.isReadable() && trailers.isEmpty()) {
          body.release();
          ctx.write(new DefaultHttp2HeadersFrame(headers, true), promise);
          return;
        }
        ctx.write(new DefaultHttp2HeadersFrame(headers, false), ctx.voidPromise());
        writeLast(ctx, body, trailers, promise);
        return;
      }
      ReferenceCountUtil.release(msg);
      ctx.write(new DefaultHttp2HeadersFrame(headers, false), promise);
    } else if (msg instanceof LastHttpContent) {
      LastHttpContent last = (LastHttpContent) msg;
      writeLast(ctx, last.content(), last.trailingHeaders(), promise);
    } else if (msg instanceof HttpContent) {
      ByteBuf content = ((HttpContent) msg).content();
      if (!content.isReadable()) {
        content.release();
        promise.trySuccess();
        return;
      }
      ctx.write(new DefaultHttp2DataFrame(content, false), promise);
    } else {
      ctx.write(msg, promise);
    }
  }

  /** The end of the response: the last body piece and the trailers, if any, ending the stream. */
  private static void writeLast(ChannelHandlerContext ctx, ByteBuf body, HttpHeaders trailers,
      ChannelPromise promise) {
    if (trailers.isEmpty()) {
      ctx.write(new DefaultHttp2DataFrame(body, true), promise);
      return;
    }
    if (body.isReadable()) {
      ctx.write(new DefaultHttp2DataFrame(body, false), ctx.voidPromise());
    } else {
      body.release();
    }
    Http2Headers h2 = new DefaultHttp2Headers();
    HttpConversionUtil.toHttp2Headers(trailers, h2);
    ctx.write(new DefaultHttp2HeadersFrame(h2, true), promise);
  }
}
