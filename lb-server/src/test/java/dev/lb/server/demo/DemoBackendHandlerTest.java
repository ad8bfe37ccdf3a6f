package dev.lb.server.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The demo backend's handler on an {@link EmbeddedChannel}: body pieces are counted and released, never held. */
class DemoBackendHandlerTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final EmbeddedChannel channel = new EmbeddedChannel(new DemoBackendHandler("b1"));

  @AfterEach
  void releaseEverything() {
    assertThat(channel.finishAndReleaseAll()).as("messages left unread").isFalse();
  }

  @Test
  void countsAndReleasesEveryBodyPieceAndAnswersAtTheLast() throws Exception {
    HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/up?x=1");
    head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    head.headers().add("X-Multi", "a").add("x-multi", "b");
    ByteBuf first = bytes(1000);
    ByteBuf second = bytes(24);

    channel.writeInbound(head, new DefaultHttpContent(first));
    assertThat(first.refCnt()).as("released on arrival").isZero();
    assertThat(channel.<Object>readOutbound()).as("no answer before the body ends").isNull();
    channel.writeInbound(new DefaultLastHttpContent(second));

    assertThat(second.refCnt()).isZero();
    FullHttpResponse response = channel.readOutbound();
    try {
      assertThat(response.status().code()).isEqualTo(200);
      assertThat(response.headers().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("application/json");
      assertThat(response.headers().getInt(HttpHeaderNames.CONTENT_LENGTH))
          .isEqualTo(response.content().readableBytes());
      JsonNode body = JSON.readTree(response.content().toString(StandardCharsets.UTF_8));
      assertThat(body.get("backend").asText()).isEqualTo("b1");
      assertThat(body.get("method").asText()).isEqualTo("POST");
      assertThat(body.get("path").asText()).isEqualTo("/up?x=1");
      assertThat(body.get("headers").get("x-multi").asText()).isEqualTo("a, b");
      assertThat(body.get("body_bytes").asLong()).isEqualTo(1024);
    } finally {
      response.release();
    }
  }

  @Test
  void eachRequestCountsItsOwnBody() throws Exception {
    channel.writeInbound(
        new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.PUT, "/a"), new DefaultLastHttpContent(bytes(7)));
    channel.writeInbound(
        new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/b"), LastHttpContent.EMPTY_LAST_CONTENT);

    assertThat(readJson().get("body_bytes").asLong()).isEqualTo(7);
    assertThat(readJson().get("body_bytes").asLong()).isZero();
  }

  @Test
  void healthIsUp() throws Exception {
    channel.writeInbound(
        new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/health"), LastHttpContent.EMPTY_LAST_CONTENT);

    assertThat(readJson().toString()).isEqualTo("{\"status\":\"UP\"}");
  }

  @Test
  void aMalformedRequestIs400AndTheRestIsDropped() {
    HttpRequest bad = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/x");
    bad.setDecoderResult(DecoderResult.failure(new IllegalArgumentException("bad")));
    ByteBuf after = bytes(3);

    channel.writeInbound(bad, new DefaultLastHttpContent(after));

    assertThat(after.refCnt()).isZero();
    FullHttpResponse response = channel.readOutbound();
    assertThat(response.status().code()).isEqualTo(400);
    assertThat(response.headers().get(HttpHeaderNames.CONNECTION)).isEqualTo("close");
    response.release();
    assertThat(channel.<Object>readOutbound()).isNull();
  }

  @Test
  void otherMessagesArePassedOn() {
    ByteBuf stray = bytes(2);

    channel.writeInbound(stray);

    ByteBuf passed = channel.readInbound();
    assertThat(passed).isSameAs(stray);
    passed.release();
  }

  private JsonNode readJson() throws Exception {
    FullHttpResponse response = channel.readOutbound();
    try {
      return JSON.readTree(response.content().toString(StandardCharsets.UTF_8));
    } finally {
      response.release();
    }
  }

  private static ByteBuf bytes(int n) {
    return PooledByteBufAllocator.DEFAULT.buffer(n).writeZero(n);
  }
}
