package dev.lb.pool;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * The last piece of a body framed by {@code Content-Length}: such a body has no trailers, so none are allocated
 * (Netty's {@code DefaultLastHttpContent} makes an empty header map for each).
 */
final class RawLastContent extends DefaultHttpContent implements LastHttpContent {
  RawLastContent(ByteBuf content) {
    super(content);
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
    return new RawLastContent(content);
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
