package dev.lb.pool;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;

/**
 * A piece of a chunked body relayed as its bytes: the bytes include the chunk framing, and {@link #dataBytes} says
 * how many of them are data (what the access log and the meters count, as for a decoded body).
 */
public final class RawContent extends DefaultHttpContent {
  private final long data;

  RawContent(ByteBuf content, long data) {
    super(content);
    this.data = data;
  }

  /** The data bytes {@code content} carries: its readable bytes, less the framing of a chunked body's raw pieces. */
  public static long dataBytes(HttpContent content) {
    if (content instanceof RawContent) {
      return ((RawContent) content).data;
    }
    if (content instanceof RawLastContent) {
      return ((RawLastContent) content).data();
    }
    return content.content().readableBytes();
  }

  @Override
  public HttpContent replace(ByteBuf content) {
    return new RawContent(content, data);
  }
}
