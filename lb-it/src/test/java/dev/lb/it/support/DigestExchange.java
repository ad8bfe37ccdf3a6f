package dev.lb.it.support;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * {@code /sha256}: hashes the request body as it arrives, keeping none of it, and answers
 * {@code {"bytes":N,"sha256":"hex"}}.
 */
final class DigestExchange extends Exchange {
  private final MessageDigest digest = Digests.sha256();
  private long bytes;

  DigestExchange(ChannelHandlerContext ctx, HttpRequest request) {
    super(ctx, request);
  }

  @Override
  void onBody(ByteBuf body) {
    int length = body.readableBytes();
    bytes += length;
    if (body.nioBufferCount() > 0) {
      for (ByteBuffer part : body.nioBuffers(body.readerIndex(), length)) {
        digest.update(part);
      }
    } else {
      byte[] copy = new byte[length];
      body.getBytes(body.readerIndex(), copy);
      digest.update(copy);
    }
  }

  @Override
  void requestEnded() {
    String json = "{\"bytes\":" + bytes + ",\"sha256\":\"" + Digests.hex(digest) + "\"}";
    ctx.writeAndFlush(
        Responses.full(
            ctx.alloc(), request, HttpResponseStatus.OK, Responses.JSON, json.getBytes(StandardCharsets.UTF_8)));
    responseComplete();
  }
}
