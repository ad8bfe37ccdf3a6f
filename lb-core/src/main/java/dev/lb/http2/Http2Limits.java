package dev.lb.http2;

import java.time.Duration;

/**
 * The settings lb announces to HTTP/2 clients, and the rates at which a client's frames count as a flood.
 *
 * <p>Each {@code max...} flood limit is a count per {@code window}: windows are fixed, one per kind of frame, each
 * starting at the first such frame after the last window ended, so a client gets at most twice a limit through in
 * any stretch of {@code window} and at most the limit plus one before its connection ends.
 *
 * @param maxConcurrentStreams streams a client may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS)
 * @param maxHeaderListSize bytes of a request's header list, HPACK-decoded (SETTINGS_MAX_HEADER_LIST_SIZE); a
 *     header block whose bytes on the wire already exceed this ends the connection
 * @param initialWindowSize bytes a client may send on a stream before lb grants more (SETTINGS_INITIAL_WINDOW_SIZE);
 *     the connection's window is grown once, at the start, to twice this (Netty's doing), which bounds the request
 *     data lb holds unread per connection
 * @param maxFrameSize the largest frame payload lb accepts (SETTINGS_MAX_FRAME_SIZE)
 * @param window the span the flood limits count over
 * @param maxResets streams the client may reset before lb answered them, per window (rapid reset); RST_STREAM
 *     frames of any kind are allowed ten times as many
 * @param maxSettings SETTINGS frames (acknowledgements included) per window
 * @param maxPings PING frames (acknowledgements included) per window
 * @param maxEmptyData DATA frames with no data and no END_STREAM per window
 * @param maxContinuations CONTINUATION frames in one header block
 * @param gracefulShutdown how long a connection closed by lb waits, after its GOAWAY, for the streams in progress
 */
public record Http2Limits(
    int maxConcurrentStreams,
    int maxHeaderListSize,
    int initialWindowSize,
    int maxFrameSize,
    Duration window,
    int maxResets,
    int maxSettings,
    int maxPings,
    int maxEmptyData,
    int maxContinuations,
    Duration gracefulShutdown) {

  /** The smallest SETTINGS_MAX_FRAME_SIZE, and the default (RFC 9113, section 6.5.2). */
  public static final int MIN_FRAME_SIZE = 16_384;
  /** The largest SETTINGS_MAX_FRAME_SIZE. */
  public static final int MAX_FRAME_SIZE = (1 << 24) - 1;
  /**
   * The smallest header block fragment the default {@code maxContinuations} allows for: clients cut a block into
   * frames as large as they may (16 KiB at least), so a block of the largest allowed size always fits.
   */
  static final int MIN_FRAGMENT = 512;

  public Http2Limits {
    atLeast("maxConcurrentStreams", maxConcurrentStreams, 1);
    atLeast("maxHeaderListSize", maxHeaderListSize, 1);
    atLeast("initialWindowSize", initialWindowSize, 1);
    if (maxFrameSize < MIN_FRAME_SIZE || maxFrameSize > MAX_FRAME_SIZE) {
      throw new IllegalArgumentException(
          "maxFrameSize must be between " + MIN_FRAME_SIZE + " and " + MAX_FRAME_SIZE + ": " + maxFrameSize);
    }
    if (window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("window must be positive: " + window);
    }
    atLeast("maxResets", maxResets, 1);
    atLeast("maxSettings", maxSettings, 1);
    atLeast("maxPings", maxPings, 1);
    atLeast("maxEmptyData", maxEmptyData, 1);
    atLeast("maxContinuations", maxContinuations, 0);
    if ((long) maxContinuations + 1 < ((long) maxHeaderListSize + maxFrameSize - 1) / maxFrameSize) {
      throw new IllegalArgumentException("maxContinuations " + maxContinuations + " leaves no room for a header"
          + " block of maxHeaderListSize " + maxHeaderListSize + " in frames of " + maxFrameSize + " bytes");
    }
    if (gracefulShutdown.isNegative()) {
      throw new IllegalArgumentException("gracefulShutdown must not be negative: " + gracefulShutdown);
    }
  }

  /** The limits with {@code maxContinuations} derived from {@code maxHeaderListSize} ({@link #continuationsFor}). */
  public Http2Limits(
      int maxConcurrentStreams,
      int maxHeaderListSize,
      int initialWindowSize,
      int maxFrameSize,
      Duration window,
      int maxResets,
      int maxSettings,
      int maxPings,
      int maxEmptyData,
      Duration gracefulShutdown) {
    this(maxConcurrentStreams, maxHeaderListSize, initialWindowSize, maxFrameSize, window, maxResets, maxSettings,
        maxPings, maxEmptyData, continuationsFor(maxHeaderListSize), gracefulShutdown);
  }

  /**
   * 100 streams, 16 KiB of headers, 1 MiB stream windows, 16 KiB frames; per 10 s at most 100 streams reset before
   * their answer, 100 SETTINGS, 100 PINGs, 100 empty DATA frames; 32 CONTINUATION frames a block; 30 s to drain.
   */
  public static Http2Limits defaults() {
    return new Http2Limits(100, 16_384, 1 << 20, MIN_FRAME_SIZE, Duration.ofSeconds(10), 100, 100, 100, 100,
        Duration.ofSeconds(30));
  }

  /**
   * The default {@code maxContinuations} for a header list size: enough for a block of that many bytes cut into
   * fragments of 512 bytes, and never under 16 (32 for 16 KiB).
   */
  public static int continuationsFor(int maxHeaderListSize) {
    return Math.max(16, (maxHeaderListSize + MIN_FRAGMENT - 1) / MIN_FRAGMENT);
  }

  private static void atLeast(String name, int value, int min) {
    if (value < min) {
      throw new IllegalArgumentException(name + " must be at least " + min + ": " + value);
    }
  }
}
