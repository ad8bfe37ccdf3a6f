package dev.lb.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class StreamCodecTest {
  private static Http2Headers get(String path) {
    return new DefaultHttp2Headers().method("GET").path(path).scheme("https").authority("shop.lb.test");
  }

  @Test
  void headersBecomeAnHttp11RequestWithHostFromAuthorityAndCookiesJoined() {
    EmbeddedChannel ch = new EmbeddedChannel(new StreamCodec());
    Http2Headers h = get("/cart?x=1").add("cookie", "a=1").add("cookie", "b=2").add("accept", "*/*");
    ch.writeInbound(new DefaultHttp2HeadersFrame(h, true));
    HttpRequest req = ch.readInbound();
    assertThat(req).isInstanceOf(StreamRequest.class).isInstanceOf(dev.lb.pool.DecodedResponse.class);
    assertThat(req.method().name()).isEqualTo("GET");
    assertThat(req.uri()).isEqualTo("/cart?x=1");
    assertThat(req.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
    assertThat(req.headers().get(HttpHeaderNames.HOST)).isEqualTo("shop.lb.test");
    assertThat(req.headers().get(HttpHeaderNames.COOKIE)).isEqualTo("a=1; b=2");
    assertThat(req.headers().get("accept")).isEqualTo("*/*");
    assertThat(req.headers().names()).noneMatch(n -> n.startsWith(":") || n.startsWith("x-http2"));
    assertThat(req.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)).isFalse();
    assertThat((Object) ch.readInbound()).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
    assertThat(ch.finish()).isFalse();
  }

  @Test
  void aBodyWithoutLengthIsChunkedAndItsDataFramesAndTrailersFollow() {
    EmbeddedChannel ch = new EmbeddedChannel(new StreamCodec());
    ch.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("POST").path("/up").scheme("http")
        .authority("a"), false));
    HttpRequest req = ch.readInbound();
    assertThat(req.headers().get(HttpHeaderNames.TRANSFER_ENCODING)).isEqualTo("chunked");
    ch.writeInbound(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("abc", StandardCharsets.US_ASCII), false));
    HttpContent piece = ch.readInbound();
    assertThat(piece).isNotInstanceOf(LastHttpContent.class);
    assertThat(piece.content().toString(StandardCharsets.US_ASCII)).isEqualTo("abc");
    piece.release();
    ch.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().add("checksum", "x"), true));
    LastHttpContent last = ch.readInbound();
    assertThat(last.trailingHeaders().get("checksum")).isEqualTo("x");
    last.release();
    assertThat(ch.finish()).isFalse();
  }

  @Test
  void malformedRequestsAreResetAndConnectAndAuthorityMismatchAnswered() {
    EmbeddedChannel ch = new EmbeddedChannel(new StreamCodec());
    ch.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("GET").scheme("https"), true));
    assertThat((Object) ch.readInbound()).isNull();
    Http2ResetFrame reset = ch.readOutbound();
    assertThat(reset.errorCode()).isEqualTo(Http2Error.PROTOCOL_ERROR.code());

    EmbeddedChannel connect = new EmbeddedChannel(new StreamCodec());
    connect.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("CONNECT")
        .authority("db:5432"), true));
    RejectedRequest rejected = connect.readInbound();
    assertThat(rejected.status()).isEqualTo(HttpResponseStatus.METHOD_NOT_ALLOWED);
    assertThat(rejected.close()).isFalse();
    connect.readInbound();

    EmbeddedChannel mismatch = new EmbeddedChannel(new StreamCodec());
    mismatch.writeInbound(new DefaultHttp2HeadersFrame(get("/").add("host", "other.lb.test"), true));
    RejectedRequest bad = mismatch.readInbound();
    assertThat(bad.status()).isEqualTo(HttpResponseStatus.BAD_REQUEST);
    mismatch.readInbound();
    assertThat(ch.finish()).isFalse();
    assertThat(connect.finish()).isFalse();
    assertThat(mismatch.finish()).isFalse();
  }

  @Test
  void responsesBecomeHeadersAndDataWithoutConnectionFields() {
    EmbeddedChannel ch = new EmbeddedChannel(new StreamCodec());
    DefaultHttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    head.headers().set("connection", "keep-alive, x-hop").set("x-hop", "1").set("keep-alive", "timeout=5")
        .set("transfer-encoding", "chunked").set("content-type", "text/plain").set("x-request-id", "r1");
    ch.writeOutbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE), head,
        new DefaultHttpContent(Unpooled.copiedBuffer("ab", StandardCharsets.US_ASCII)),
        new DefaultHttpContent(Unpooled.EMPTY_BUFFER),
        new DefaultLastHttpContent(Unpooled.copiedBuffer("c", StandardCharsets.US_ASCII)));
    Http2HeadersFrame interim = ch.readOutbound();
    assertThat(interim.headers().status().toString()).isEqualTo("100");
    assertThat(interim.isEndStream()).isFalse();
    Http2HeadersFrame h = ch.readOutbound();
    assertThat(h.headers().status().toString()).isEqualTo("200");
    assertThat(h.headers().get("content-type").toString()).isEqualTo("text/plain");
    assertThat(h.headers().get("x-request-id").toString()).isEqualTo("r1");
    assertThat(h.headers().names()).map(CharSequence::toString)
        .doesNotContain("connection", "keep-alive", "transfer-encoding", "x-hop");
    assertThat(h.isEndStream()).isFalse();
    Http2DataFrame ab = ch.readOutbound();
    assertThat(ab.content().toString(StandardCharsets.US_ASCII)).isEqualTo("ab");
    assertThat(ab.isEndStream()).isFalse();
    ab.release();
    Http2DataFrame c = ch.readOutbound();
    assertThat(c.content().toString(StandardCharsets.US_ASCII)).isEqualTo("c");
    assertThat(c.isEndStream()).isTrue();
    c.release();
    assertThat((Object) ch.readOutbound()).isNull();

    DefaultFullHttpResponse empty = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT);
    ch.writeOutbound(empty);
    Http2HeadersFrame only = ch.readOutbound();
    assertThat(only.isEndStream()).isTrue();

    DefaultFullHttpResponse full = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
        HttpResponseStatus.TOO_MANY_REQUESTS, Unpooled.copiedBuffer("{}", StandardCharsets.US_ASCII));
    full.trailingHeaders().set("grpc-status", "0");
    ch.writeOutbound(full);
    assertThat(((Http2HeadersFrame) ch.readOutbound()).headers().status().toString()).isEqualTo("429");
    Http2DataFrame body = ch.readOutbound();
    assertThat(body.isEndStream()).isFalse();
    body.release();
    Http2HeadersFrame trailers = ch.readOutbound();
    assertThat(trailers.isEndStream()).isTrue();
    assertThat(trailers.headers().get("grpc-status").toString()).isEqualTo("0");
    assertThat(ch.finish()).isFalse();
  }
}
