package dev.lb.pool;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;

/**
 * The HTTP/1.1 codec of a backend connection: a request encoder and a response decoder that know which request each
 * response answers (one at a time), so that a backend's bytes are taken only as the response to a request:
 *
 * <ul>
 *   <li>a response to {@code HEAD} has no body, whatever its headers say;
 *   <li>bytes that arrive when no response is due (after a response ended, before the next request was written) close
 *       the connection: they are a backend that sent more than its framing said, and must reach no client;
 *   <li>{@link #holdsUnreadBytes()} tells, as a response ends, whether more bytes came with it, in which case the
 *       connection must not be reused.
 * </ul>
 *
 * <p>Interim responses ({@code 1xx}) do not end the wait for the final one; after a {@code 101} the decoder passes the
 * bytes that follow through for the tunnel.
 */
public final class BackendCodec extends CombinedChannelDuplexHandler<BackendCodec.Decoder, BackendCodec.Encoder> {
  private final Decoder decoder;
  /** A request was written whose final response has not ended yet. */
  private boolean awaiting;
  private boolean headRequest;
  /** The response being decoded is an interim one ({@code 1xx} but {@code 101}): the final one is still due. */
  private boolean interim;
  /** The response being decoded is a {@code 101}: what follows is not HTTP. */
  private boolean switching;

  public BackendCodec(HttpDecoderConfig config) {
    Decoder d = new Decoder(config);
    this.decoder = d;
    init(d, new Encoder());
  }

  /** Whether the decoder holds bytes it has not decoded yet (read with, or after, what was decoded). */
  public boolean holdsUnreadBytes() {
    return decoder.unread() > 0;
  }

  /** Decodes responses; see the codec. */
  final class Decoder extends HttpResponseDecoder {
    Decoder(HttpDecoderConfig config) {
      super(config);
    }

    int unread() {
      return actualReadableBytes();
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
      if (!awaiting) {
        if (buffer.isReadable()) {
          // No response is due: nobody asked for these bytes.
          buffer.skipBytes(buffer.readableBytes());
          ctx.close();
        }
        return;
      }
      int before = out.size();
      super.decode(ctx, buffer, out);
      for (int i = before; i < out.size(); i++) {
        Object msg = out.get(i);
        if (msg instanceof HttpResponse) {
          int code = ((HttpResponse) msg).status().code();
          interim = code >= 100 && code < 200 && code != 101;
          switching = code == 101;
        }
        if (msg instanceof LastHttpContent && !interim && !switching) {
          awaiting = false;
        }
      }
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage msg) {
      if (headRequest && msg instanceof HttpResponse && ((HttpResponse) msg).status().code() >= 200) {
        return true;
      }
      return super.isContentAlwaysEmpty(msg);
    }
  }

  /** Encodes requests, noting each one as the start of a wait for its response. */
  final class Encoder extends HttpRequestEncoder {
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
      if (msg instanceof HttpRequest) {
        awaiting = true;
        interim = false;
        switching = false;
        headRequest = HttpMethod.HEAD.equals(((HttpRequest) msg).method());
      }
      super.write(ctx, msg, promise);
    }
  }
}
