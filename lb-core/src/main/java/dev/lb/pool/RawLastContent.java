package dev.lb.pool;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * The last piece of a body relayed as its bytes: framed by {@code Content-Length}, or the end of a chunked body with
 * its last chunk and trailer section in the bytes. Its trailers are never decoded, so none are allocated (Netty's
 * {@code DefaultLastHttpContent} makes an empty header map for each).
 */
final class RawLastContent extends DefaultHttpContent implements LastHttpContent {
  /** The data bytes among the readable ones (the rest is chunk framing). */
  private final long data;

  RawLastContent(ByteBuf content) {
    this(content, content.readableBytes());
  }

  RawLastContent(ByteBuf content, long data) {
    super(content);
    this.data = data;
  }

  long data() {
    return data;
  }

  @Override
  public HttpHeaders trailingHeaders() {
    return EmptyHttpHeaders.INSTANCE;
  }

  @Override
  public LastHttpContent copy() {
    return replace(content().copy());
  }

  @Override
  public LastHttpContent duplicate() {
    return replace(content().duplicate());
  }

  @Override
  public LastHttpContent retainedDuplicate() {
    return replace(content().retainedDuplicate());
  }

  @Override
  public LastHttpContent replace(ByteBuf content) {
    return new RawLastContent(content, data);
  }

  @Override
  public LastHttpContent retain() {
    super.retain();
    return this;
  }

  @Override
  public LastHttpContent retain(int increment) {
    super.retain(increment);
    return this;
  }

  @Override
  public LastHttpContent touch() {
    super.touch();
    return this;
  }

  @Override
  public LastHttpContent touch(Object hint) {
    super.touch(hint);
    return this;
  }
}
