package dev.lb.http2;

import dev.lb.config.Durations;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DecoratingHttp2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameListener;
import io.netty.handler.codec.http2.Http2FrameListenerDecorator;
import io.netty.handler.codec.http2.Http2Stream;
import java.util.List;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Counts a client's frames for the flood limits, in front of Netty's decoder.
 *
 * <p>Before the bytes of a read reach Netty's frame reader, this reads the 9-byte header (length, type, flags,
 * stream) of every frame that has begun to arrive, without waiting for its payload, and counts SETTINGS, PING, empty
 * DATA, RST_STREAM and the CONTINUATION frames and bytes of a header block. Where it left off is kept relative to
 * the reader index, as Netty's reader consumes frames and the buffer it reads from may be compacted between reads.
 * Counting from the headers bounds what a flood costs whatever its frames carry: a CONTINUATION flood is stopped
 * before Netty has gathered its block, a frame is counted once even when it arrives a byte at a time.
 *
 * <p>Resets are counted in the frame listener instead, where the stream's state is known: a stream the client resets
 * before lb sent its response headers made lb start work for nothing, which is what a rapid reset does; a browser
 * cancelling a download it no longer needs does not. Netty passes on a reset only for a stream still open, so the
 * cheap resets of finished streams are counted by the header scan, at ten times the limit.
 *
 * <p>A limit exceeded throws a connection error {@code ENHANCE_YOUR_CALM}: Netty's handler answers with GOAWAY and
 * closes the connection. The rest of the client's input is dropped unread.
 */
final class FloodGuard extends DecoratingHttp2ConnectionDecoder {
  /** RST_STREAM frames of any kind allowed per window, as a multiple of {@link Http2Limits#maxResets()}. */
  static final int RESET_FRAMES_FACTOR = 10;
  /**
   * Bytes a header block may carry beyond the header list's size: a HEADERS frame's padding (256 at most) and
   * priority (5), and dynamic table size updates. Each header field costs at least 32 bytes more in the list's size
   * than it takes HPACK-encoded, so a block larger than this cannot decode within the limit.
   */
  static final int HEADER_BLOCK_SLACK = 300;

  private static final int FRAME_HEADER = 9;
  private static final int DATA = 0x0;
  private static final int HEADERS = 0x1;
  private static final int RST_STREAM = 0x3;
  private static final int SETTINGS = 0x4;
  private static final int PUSH_PROMISE = 0x5;
  private static final int PING = 0x6;
  private static final int CONTINUATION = 0x9;
  private static final int END_STREAM = 0x1;
  private static final int END_HEADERS = 0x4;
  private static final int PADDED = 0x8;

  private final Http2Limits limits;
  private final LongSupplier nanoClock;
  private final FloodReport report;
  private final String window;
  private final WindowCount prematureResets;
  private final WindowCount resetFrames;
  private final WindowCount settings;
  private final WindowCount pings;
  private final WindowCount emptyData;
  private final long maxHeaderBlockBytes;

  /** Bytes from the reader index to the next frame header to scan, or to the pad length awaited. */
  private long next;
  /** A padded DATA frame without END_STREAM whose pad length byte, at {@link #next}, is not yet scanned. */
  private boolean padLengthAwaited;
  /** The payload length of that frame: its pad length byte, data and padding. */
  private int paddedLength;
  private boolean inHeaderBlock;
  private int continuations;
  private long headerBlockBytes;
  /** A flood was found: everything read from now on is dropped. */
  private boolean flooded;
  /** Netty's reader skipped input it had not read (after an error of its own): scanning has stopped. */
  private boolean lost;

  FloodGuard(Http2ConnectionDecoder delegate, Http2Limits limits, LongSupplier nanoClock, FloodReport report) {
    super(delegate);
    this.limits = limits;
    this.nanoClock = nanoClock;
    this.report = report;
    long windowNanos = limits.window().toNanos();
    this.window = Durations.format(limits.window());
    this.prematureResets = new WindowCount(windowNanos, limits.maxResets());
    this.resetFrames = new WindowCount(windowNanos, (int) Math.min(Integer.MAX_VALUE,
        (long) limits.maxResets() * RESET_FRAMES_FACTOR));
    this.settings = new WindowCount(windowNanos, limits.maxSettings());
    this.pings = new WindowCount(windowNanos, limits.maxPings());
    this.emptyData = new WindowCount(windowNanos, limits.maxEmptyData());
    this.maxHeaderBlockBytes = (long) limits.maxHeaderListSize() + HEADER_BLOCK_SLACK;
  }

  @Override
  public void decodeFrame(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Http2Exception {
    if (flooded) {
      in.skipBytes(in.readableBytes());
      return;
    }
    int start = in.readerIndex();
    try {
      if (!lost) {
        scan(in);
      }
      super.decodeFrame(ctx, in, out);
    } finally {
      next -= in.readerIndex() - start;
      if (next < 0) {
        lost = true;
      }
    }
  }

  @Override
  public void frameListener(@Nullable Http2FrameListener listener) {
    super.frameListener(listener == null ? null : new ResetCounter(listener));
  }

  @Override
  public @Nullable Http2FrameListener frameListener() {
    Http2FrameListener listener = super.frameListener();
    return listener instanceof ResetCounter counter ? counter.listener() : listener;
  }

  /** Scans the frame headers that have arrived past {@link #next}. */
  private void scan(ByteBuf in) throws Http2Exception {
    long base = in.readerIndex();
    long end = in.writerIndex();
    long now = nanoClock.getAsLong();
    while (true) {
      long at = base + next;
      if (padLengthAwaited) {
        if (at >= end) {
          return;
        }
        int padLength = in.getUnsignedByte((int) at);
        padLengthAwaited = false;
        next += paddedLength;
        if (paddedLength - 1 - padLength <= 0) {
          check(DATA, now);
        }
        continue;
      }
      if (end - at < FRAME_HEADER) {
        return;
      }
      int i = (int) at;
      int length = in.getUnsignedMedium(i);
      int type = in.getUnsignedByte(i + 3);
      int flags = in.getUnsignedByte(i + 4);
      next += FRAME_HEADER;
      if (type == DATA && (flags & (PADDED | END_STREAM)) == PADDED && length > 0) {
        inHeaderBlock = false;
        padLengthAwaited = true;
        paddedLength = length;
        continue;
      }
      next += length;
      if (counted(type, flags, length)) {
        check(type, now);
      }
    }
  }

  /**
   * Follows header blocks; true for a frame counted per window. A CONTINUATION out of place, or a block cut short,
   * is left to Netty's reader, which ends the connection with PROTOCOL_ERROR.
   */
  private boolean counted(int type, int flags, int length) throws Http2Exception {
    if (type == CONTINUATION) {
      if (inHeaderBlock) {
        continuations++;
        headerBlockBytes += length;
        if (continuations > limits.maxContinuations()) {
          throw flood(Flood.CONTINUATION, "more than %d CONTINUATION frames in a header block",
              limits.maxContinuations());
        }
        checkHeaderBlockBytes();
        inHeaderBlock = (flags & END_HEADERS) == 0;
      }
      return false;
    }
    inHeaderBlock = false;
    switch (type) {
      case HEADERS, PUSH_PROMISE -> {
        continuations = 0;
        headerBlockBytes = length;
        checkHeaderBlockBytes();
        inHeaderBlock = (flags & END_HEADERS) == 0;
        return false;
      }
      case DATA -> {
        return length == 0 && (flags & END_STREAM) == 0;
      }
      case RST_STREAM, SETTINGS, PING -> {
        return true;
      }
      default -> {
        return false;
      }
    }
  }

  private void check(int type, long now) throws Http2Exception {
    switch (type) {
      case DATA -> {
        if (emptyData.exceeded(now)) {
          throw flood(Flood.EMPTY_DATA, "more than %d empty DATA frames in %s", emptyData.max(), window);
        }
      }
      case RST_STREAM -> {
        if (resetFrames.exceeded(now)) {
          throw flood(Flood.RAPID_RESET, "more than %d RST_STREAM frames in %s", resetFrames.max(), window);
        }
      }
      case SETTINGS -> {
        if (settings.exceeded(now)) {
          throw flood(Flood.SETTINGS, "more than %d SETTINGS frames in %s", settings.max(), window);
        }
      }
      case PING -> {
        if (pings.exceeded(now)) {
          throw flood(Flood.PING, "more than %d PING frames in %s", pings.max(), window);
        }
      }
      default -> throw new IllegalStateException("frame type " + type + " is not counted");
    }
  }

  private void checkHeaderBlockBytes() throws Http2Exception {
    if (headerBlockBytes > maxHeaderBlockBytes) {
      throw flood(Flood.CONTINUATION, "a header block of more than %d bytes, over the header list size of %d",
          maxHeaderBlockBytes, limits.maxHeaderListSize());
    }
  }

  private Http2Exception flood(Flood flood, String format, Object... args) {
    flooded = true;
    report.report(flood);
    return Http2Exception.connectionError(Http2Error.ENHANCE_YOUR_CALM, format, args);
  }

  /** Counts the streams reset by the client before lb sent their response headers. */
  private final class ResetCounter extends Http2FrameListenerDecorator {
    ResetCounter(Http2FrameListener listener) {
      super(listener);
    }

    Http2FrameListener listener() {
      return listener;
    }

    @Override
    public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode) throws Http2Exception {
      Http2Stream stream = connection().stream(streamId);
      if (stream != null && !stream.isHeadersSent() && prematureResets.exceeded(nanoClock.getAsLong())) {
        throw flood(Flood.RAPID_RESET, "more than %d streams reset before their response in %s",
            prematureResets.max(), window);
      }
      super.onRstStreamRead(ctx, streamId, errorCode);
    }
  }
}
