package dev.lb.http2;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Settings;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The HTTP/2 server codec of a client connection: Netty's {@link Http2FrameCodec} with lb's settings and defences
 * against the known floods. Put an {@code Http2MultiplexHandler} after it.
 *
 * <pre>{@code
 * ch.pipeline().addLast(Http2ServerCodecs.newCodec(limits, flood -> floods.counter(flood.key()).increment()));
 * ch.pipeline().addLast(new Http2MultiplexHandler(streamInitializer));
 * }</pre>
 *
 * <p>The codec announces {@code maxConcurrentStreams}, {@code maxHeaderListSize}, {@code initialWindowSize} and
 * {@code maxFrameSize}, validates header names and values, and when closed waits {@code gracefulShutdown} after its
 * GOAWAY for the streams in progress. A client that exceeds a flood limit gets GOAWAY {@code ENHANCE_YOUR_CALM}, with
 * its reason as debug data and 2^31-1 as the last stream id (Netty's hard shutdown, which vouches for no stream), and
 * the connection is closed once that is written; the rest of what the client sent is dropped unread. See
 * {@link FloodGuard} for how frames are counted:
 *
 * <ul>
 *   <li>{@link Flood#RAPID_RESET}: more than {@code maxResets} streams reset by the client before lb sent their
 *       response headers, or more than ten times as many RST_STREAM frames of any kind, per window. A stream reset
 *       before its answer made lb start work for nothing, as a rapid reset does; resets of answered streams are what
 *       a browser does when it no longer needs a download, and cost lb little, so only the looser count applies to
 *       them;
 *   <li>{@link Flood#CONTINUATION}: more than {@code maxContinuations} CONTINUATION frames in one header block, or a
 *       block of more bytes than {@code maxHeaderListSize} (plus 300 for padding and such);
 *   <li>{@link Flood#SETTINGS}, {@link Flood#PING}, {@link Flood#EMPTY_DATA}: more than {@code maxSettings} SETTINGS,
 *       {@code maxPings} PING, {@code maxEmptyData} DATA frames without data or END_STREAM per window.
 * </ul>
 *
 * <p>Netty's checks of the same floods on the decoding side are turned off, as lb's replace them and report what they
 * find: its count of received RST_STREAM frames (200 per 30 s, which would also cut off a browser cancelling
 * downloads) and of consecutive empty DATA frames; its count of small CONTINUATION frames stays, above lb's, as a
 * backstop. Netty's checks on the encoding side stay as they are and are reported too: at most 10,000 control frames
 * (acknowledgements, resets) queued unsent for a client that does not read ({@link Flood#CONTROL_BACKLOG}), and at
 * most 200 RST_STREAM frames per 30 s that the client provoked, not counting CANCEL and NO_ERROR
 * ({@link Flood#RESETS_SENT}).
 *
 * <p>WINDOW_UPDATE frames are not limited: a client's count of them grows with the data it legitimately downloads,
 * a flood of them costs lb no more than reading them, and the invalid ones are errors Netty answers, with resets
 * that count towards {@link Flood#RESETS_SENT} or with GOAWAY. Nor are PRIORITY and unknown frames, which Netty
 * reads and drops for as little.
 *
 * <p>The listener hears of the first flood on a connection only, on the connection's event loop; it must not block.
 * It is made per connection, so it may name the client.
 */
public final class Http2ServerCodecs {
  private Http2ServerCodecs() {}

  /** A server codec for one client connection, with {@link System#nanoTime()} as the flood windows' clock. */
  public static Http2FrameCodec newCodec(Http2Limits limits, Consumer<Flood> onFlood) {
    return newCodec(limits, onFlood, System::nanoTime);
  }

  /** As {@link #newCodec(Http2Limits, Consumer)}, with the flood windows timed by {@code nanoClock}. */
  public static Http2FrameCodec newCodec(Http2Limits limits, Consumer<Flood> onFlood, LongSupplier nanoClock) {
    Http2Settings settings = new Http2Settings()
        .maxConcurrentStreams(limits.maxConcurrentStreams())
        .maxHeaderListSize(limits.maxHeaderListSize())
        .initialWindowSize(limits.initialWindowSize())
        .maxFrameSize(limits.maxFrameSize());
    return new Builder(limits, new FloodReport(onFlood), nanoClock)
        .initialSettings(settings)
        .validateHeaders(true)
        .gracefulShutdownTimeoutMillis(limits.gracefulShutdown().toMillis())
        .decoderEnforceMaxRstFramesPerWindow(0, 0)
        .decoderEnforceMaxConsecutiveEmptyDataFrames(0)
        // Netty counts the small fragments of a block, HEADERS's among them: at most one more than lb counts.
        .decoderEnforceMaxSmallContinuationFrames((int) Math.min(Integer.MAX_VALUE, limits.maxContinuations() + 2L))
        .build();
  }

  /** Which of Netty's limits on what lb writes a connection error came from, if any. */
  static @Nullable Flood encoderFlood(boolean outbound, @Nullable Http2Exception error) {
    if (!outbound || error == null || error.error() != Http2Error.ENHANCE_YOUR_CALM) {
      return null;
    }
    String message = String.valueOf(error.getMessage());
    if (message.contains("control frames")) {
      return Flood.CONTROL_BACKLOG;
    }
    if (message.contains("RST frames")) {
      return Flood.RESETS_SENT;
    }
    return null;
  }

  /** Netty's builder, with lb's decoder put in front of Netty's and lb's codec reporting Netty's own limits. */
  private static final class Builder extends Http2FrameCodecBuilder {
    private final Http2Limits limits;
    private final FloodReport report;
    private final LongSupplier nanoClock;

    Builder(Http2Limits limits, FloodReport report, LongSupplier nanoClock) {
      this.limits = limits;
      this.report = report;
      this.nanoClock = nanoClock;
      server(true);
    }

    @Override
    protected Http2FrameCodec build(
        Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, Http2Settings initialSettings) {
      Http2FrameCodec codec = new Codec(encoder, new FloodGuard(decoder, limits, nanoClock, report), initialSettings,
          decoupleCloseAndGoAway(), flushPreface(), report);
      codec.gracefulShutdownTimeoutMillis(gracefulShutdownTimeoutMillis());
      return codec;
    }
  }

  /** Reports the connection errors of Netty's limits on what lb writes. */
  private static final class Codec extends Http2FrameCodec {
    private final FloodReport report;

    Codec(Http2ConnectionEncoder encoder, Http2ConnectionDecoder decoder, Http2Settings initialSettings,
        boolean decoupleCloseAndGoAway, boolean flushPreface, FloodReport report) {
      super(encoder, decoder, initialSettings, decoupleCloseAndGoAway, flushPreface);
      this.report = report;
    }

    @Override
    protected void onConnectionError(
        ChannelHandlerContext ctx, boolean outbound, Throwable cause, @Nullable Http2Exception http2Ex) {
      Flood flood = encoderFlood(outbound, http2Ex);
      if (flood != null) {
        report.report(flood);
      }
      super.onConnectionError(ctx, outbound, cause, http2Ex);
    }
  }
}
