package dev.lb.http2;

import static java.nio.charset.StandardCharsets.US_ASCII;

import dev.lb.testing.H2Frames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.DefaultChannelId;
import io.netty.channel.ServerChannel;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * lb's server codec on an {@link EmbeddedChannel}, with an {@link Http2MultiplexHandler} whose streams answer as a
 * proxy would: a little later (on a task of the event loop, so after the rest of the read), {@code 200} and
 * {@code ok}. A request for {@code /open} is answered with headers only and its stream left open, as a long
 * download is; one for {@code /slow} is never answered, as if its backend took its time. The flood windows run on a
 * clock the test moves.
 */
final class EmbeddedH2Server implements AutoCloseable {
  final EmbeddedChannel ch;
  final List<Flood> floods = new ArrayList<>();
  /** What reached the end of the connection's pipeline as an exception: the errors the codec ended it for. */
  final List<Throwable> errors = new ArrayList<>();
  /** Streams the client opened that reached lb's stream handler. */
  int streams;
  /** The listening socket's stand-in, as Netty's multiplexer tells a server's connection by its parent. */
  private final EmbeddedChannel listening = new Listener();
  final List<H2Frames.Frame> received = new ArrayList<>();
  private final H2Frames.Reader reader = new H2Frames.Reader();
  private long nanos = 1_000_000_000L;

  EmbeddedH2Server(Http2Limits limits) {
    this(limits, null);
  }

  /** With {@code first}, if not null, first in the pipeline (before the codec). */
  EmbeddedH2Server(Http2Limits limits, ChannelHandler first) {
    this(limits, first, null);
  }

  EmbeddedH2Server(Http2Limits limits, ChannelHandler first, Consumer<Flood> listener) {
    ch = new EmbeddedChannel(listening, DefaultChannelId.newInstance(), true, false);
    if (first != null) {
      ch.pipeline().addLast(first);
    }
    Consumer<Flood> onFlood = listener != null ? listener : floods::add;
    ch.pipeline().addLast(Http2ServerCodecs.newCodec(limits, onFlood, () -> nanos));
    ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
      @Override
      protected void initChannel(Http2StreamChannel stream) {
        streams++;
        stream.pipeline().addLast(new Responder());
      }
    }));
    ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        errors.add(cause);
      }
    });
  }

  /** Moves the flood windows' clock on. */
  void advance(Duration d) {
    nanos += d.toNanos();
  }

  /** Feeds {@code bytes} as one read; the frames written back since the last call. */
  List<H2Frames.Frame> feed(byte[] bytes) {
    if (ch.isOpen()) {
      ch.writeInbound(Unpooled.wrappedBuffer(bytes));
    }
    return drain();
  }

  /** The frames written back since the last call. */
  List<H2Frames.Frame> drain() {
    ch.runPendingTasks();
    List<H2Frames.Frame> frames = reader.readOutbound(ch);
    received.addAll(frames);
    return frames;
  }

  /** Feeds {@code frames} one read each until the connection closes; how many were fed (the last one included). */
  int feedUntilClosed(List<byte[]> frames) {
    int n = 0;
    for (byte[] f : frames) {
      if (!ch.isOpen()) {
        break;
      }
      feed(f);
      n++;
    }
    return n;
  }

  /** The client's preface and SETTINGS, and its acknowledgement of lb's. */
  List<H2Frames.Frame> start() {
    return feed(H2Frames.concat(H2Frames.start(), H2Frames.settingsAck()));
  }

  /** The GOAWAY frames lb sent. */
  List<H2Frames.Frame> goAways() {
    drain();
    return received.stream().filter(f -> f.is(H2Frames.GOAWAY)).toList();
  }

  @Override
  public void close() {
    ch.finishAndReleaseAll();
    drain();
    listening.finishAndReleaseAll();
  }

  private static final class Listener extends EmbeddedChannel implements ServerChannel {}

  /** Answers each request once it has ended, on a later task; {@code /open} gets headers only, {@code /slow} nothing. */
  static final class Responder extends ChannelInboundHandlerAdapter {
    private boolean open;
    private boolean slow;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        boolean ended;
        if (msg instanceof Http2HeadersFrame h) {
          open = "/open".contentEquals(h.headers().path());
          slow = "/slow".contentEquals(h.headers().path());
          ended = h.isEndStream();
        } else if (msg instanceof Http2DataFrame d) {
          ended = d.isEndStream();
        } else {
          ended = false;
        }
        if (ended && !slow) {
          ctx.executor().execute(() -> answer(ctx));
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    private void answer(ChannelHandlerContext ctx) {
      if (!ctx.channel().isActive()) {
        return;
      }
      DefaultHttp2Headers headers = new DefaultHttp2Headers();
      headers.status("200");
      if (open) {
        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(headers, false));
        return;
      }
      ctx.write(new DefaultHttp2HeadersFrame(headers, false));
      ByteBuf body = Unpooled.copiedBuffer("ok", US_ASCII);
      ctx.writeAndFlush(new DefaultHttp2DataFrame(body, true));
    }
  }
}
