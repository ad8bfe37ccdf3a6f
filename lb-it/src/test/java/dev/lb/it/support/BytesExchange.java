package dev.lb.it.support;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * {@code /bytes?n=N&chunked=B&seed=S}: streams the first N bytes of {@link PseudoRandomBytes} for the seed, fixed
 * length or chunked. It writes only while the channel is writable and continues when it becomes writable again, so
 * at most about the write-buffer high-water mark plus one {@value #CHUNK}-byte part is held, whatever N is.
 *
 * <p>Buffers: each part is allocated here and handed to the outbound pipeline by the write.
 */
final class BytesExchange extends Exchange {
  static final int CHUNK = 64 * 1024;

  private final long total;
  private final boolean chunked;
  private final PseudoRandomBytes source;
  private final byte[] scratch = new byte[CHUNK];
  private long remaining;
  private boolean started;
  private boolean pumping;

  BytesExchange(ChannelHandlerContext ctx, HttpRequest request, long total, boolean chunked, long seed) {
    super(ctx, request);
    this.total = total;
    this.chunked = chunked;
    this.source = new PseudoRandomBytes(seed);
  }

  @Override
  void requestEnded() {
    ctx.write(
        Responses.head(request, HttpResponseStatus.OK, "application/octet-stream", chunked ? -1 : total));
    remaining = HttpMethod.HEAD.equals(request.method()) ? 0 : total;
    started = true;
    pump();
  }

  @Override
  void writabilityChanged() {
    if (started && !isResponseComplete()) {
      pump();
    }
  }

  private void pump() {
    if (pumping) {
      // Netty fires writability changes synchronously from inside write() and flush(): the outer call goes on.
      return;
    }
    pumping = true;
    try {
      Channel channel = ctx.channel();
      do {
        while (remaining > 0 && channel.isWritable()) {
          int length = (int) Math.min(CHUNK, remaining);
          source.nextBytes(scratch, 0, length);
          // One bulk write per part: under paranoid leak detection every ByteBuf access records a stack trace.
          ByteBuf part = ctx.alloc().buffer(length).writeBytes(scratch, 0, length);
          remaining -= length;
          if (remaining == 0) {
            ctx.write(new DefaultLastHttpContent(part));
            responseComplete();
          } else {
            ctx.write(new DefaultHttpContent(part));
          }
        }
        if (remaining == 0 && !isResponseComplete()) {
          ctx.write(LastHttpContent.EMPTY_LAST_CONTENT);
          responseComplete();
        }
        ctx.flush();
        // The flush may have drained the buffer, and its writability event was swallowed above.
      } while (remaining > 0 && channel.isWritable());
    } finally {
      pumping = false;
    }
  }
}
