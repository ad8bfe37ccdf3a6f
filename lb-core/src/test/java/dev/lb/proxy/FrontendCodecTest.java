package dev.lb.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FrontendCodecTest {
  private final EmbeddedChannel ch = new EmbeddedChannel(new FrontendCodec(new HttpDecoderConfig()));

  @AfterEach
  void finish() {
    ch.finishAndReleaseAll();
  }

  private static ByteBuf ascii(String s) {
    return Unpooled.copiedBuffer(s, US_ASCII);
  }

  /** Feeds {@code raw} and returns what was decoded, each message released once read. */
  private List<Object> decode(String raw) {
    ch.writeInbound(ascii(raw));
    List<Object> out = new ArrayList<>();
    for (Object m; (m = ch.readInbound()) != null; ) {
      out.add(m);
      ReferenceCountUtil.release(m);
    }
    return out;
  }

  private static HttpRequest request(Object msg) {
    assertThat(msg).isInstanceOf(HttpRequest.class);
    return (HttpRequest) msg;
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "GET / HTTP/1.1\r\nHost: lb\r\n\r\n",
      "\r\n\r\nGET / HTTP/1.1\r\nHost: lb\r\n\r\n",
      "\nGET / HTTP/1.1\r\nHost: lb\r\n\r\n",
      "OPTIONS * HTTP/1.1\r\nHost: lb\r\n\r\n",
      "GET http://lb/a?b=c HTTP/1.0\r\n\r\n"})
  void singleSpacesAndLeadingEmptyLinesAreAccepted(String raw) {
    List<Object> out = decode(raw);
    assertThat(out).hasSize(2);
    assertThat(request(out.get(0)).decoderResult().isSuccess()).isTrue();
    assertThat(out.get(1)).isInstanceOf(LastHttpContent.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "GET\t/ HTTP/1.1\r\n",
      "GET /\tHTTP/1.1\r\n",
      "GET\t/\tHTTP/1.1\r\n",
      "GET\u000b/ HTTP/1.1\r\n",
      "GET /\u000bHTTP/1.1\r\n",
      "GET\u000c/ HTTP/1.1\r\n",
      "GET /\u000cHTTP/1.1\r\n",
      "GET\r/ HTTP/1.1\r\n",
      "GET /\rHTTP/1.1\r\n",
      "GET  / HTTP/1.1\r\n",
      "GET /  HTTP/1.1\r\n",
      "GET    /    HTTP/1.1\r\n",
      "GET \t/ HTTP/1.1\r\n",
      "GET /\t HTTP/1.1\r\n",
      " GET / HTTP/1.1\r\n",
      "\tGET / HTTP/1.1\r\n",
      "\r\n GET / HTTP/1.1\r\n",
      "\u0000GET / HTTP/1.1\r\n",
      "\rGET / HTTP/1.1\r\n"})
  void otherSeparatorsAndLeadingBytesFail(String line) {
    List<Object> out = decode(line + "Host: lb\r\n\r\n");
    assertThat(out).hasSize(1);
    assertThat(request(out.get(0)).decoderResult().isFailure()).isTrue();
    // Nothing after the refusal is decoded.
    assertThat(decode("GET / HTTP/1.1\r\nHost: lb\r\n\r\n")).isEmpty();
  }

  @Test
  void leadingBytesSplitAcrossReadsAreChecked() {
    assertThat(decode("\r")).isEmpty();
    assertThat(decode("\n")).isEmpty();
    List<Object> out = decode(" GET / HTTP/1.1\r\nHost: lb\r\n\r\n");
    assertThat(out).hasSize(1);
    assertThat(request(out.get(0)).decoderResult().isFailure()).isTrue();
  }

  @Test
  void aPipelinedRequestAfterABodyIsCheckedToo() {
    List<Object> out = decode("POST / HTTP/1.1\r\nHost: lb\r\nContent-Length: 3\r\n\r\nabc"
        + "GET\t/smuggled HTTP/1.1\r\nHost: lb\r\n\r\n");
    assertThat(request(out.get(0)).decoderResult().isSuccess()).isTrue();
    assertThat(out.get(1)).isInstanceOf(LastHttpContent.class);
    assertThat(((HttpContent) out.get(1)).decoderResult().isSuccess()).isTrue();
    assertThat(out).hasSize(3);
    assertThat(request(out.get(2)).decoderResult().isFailure()).isTrue();
  }

  @Test
  void aLeadingSpaceAfterAChunkedBodyIsRefused() {
    List<Object> out = decode("POST / HTTP/1.1\r\nHost: lb\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        + " GET /smuggled HTTP/1.1\r\nHost: lb\r\n\r\n");
    assertThat(out.get(out.size() - 1)).isInstanceOf(HttpRequest.class);
    assertThat(request(out.get(out.size() - 1)).decoderResult().isFailure()).isTrue();
    assertThat(request(out.get(0)).decoderResult().isSuccess()).isTrue();
  }

  @Test
  void theAnswerToHeadHasNoBodyAndTheNextAnswerHasOne() {
    decode("HEAD / HTTP/1.1\r\nHost: lb\r\n\r\nGET / HTTP/1.1\r\nHost: lb\r\n\r\n");
    HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    ch.writeOutbound(head, LastHttpContent.EMPTY_LAST_CONTENT);
    assertThat(dev.lb.testing.Outbound.drain(ch)).endsWith("transfer-encoding: chunked\r\n\r\n");

    ByteBuf body = ascii("hi");
    ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body));
    assertThat(body.refCnt()).isZero();
    assertThat(dev.lb.testing.Outbound.drain(ch)).endsWith("\r\n\r\nhi");
  }

  @Test
  void anInterimResponseKeepsTheMethodForTheFinalOne() {
    decode("HEAD / HTTP/1.1\r\nHost: lb\r\nExpect: 100-continue\r\n\r\n");
    ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
    HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    ch.writeOutbound(head, LastHttpContent.EMPTY_LAST_CONTENT);
    assertThat(dev.lb.testing.Outbound.drain(ch))
        .startsWith("HTTP/1.1 100 Continue\r\n")
        .endsWith("transfer-encoding: chunked\r\n\r\n");
  }
}
