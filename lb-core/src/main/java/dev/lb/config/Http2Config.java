package dev.lb.config;

import java.time.Duration;

/**
 * HTTP/2 from clients ({@code listen.http2}): the settings lb announces and the limits against the known floods.
 * Each flood limit counts frames of its kind on one connection within {@code floodWindow}; past it the connection is
 * closed with {@code GOAWAY ENHANCE_YOUR_CALM}.
 *
 * @param maxConcurrentStreams streams a client may have open at once ({@code SETTINGS_MAX_CONCURRENT_STREAMS})
 * @param maxHeaderListSize the largest request header list, decoded ({@code SETTINGS_MAX_HEADER_LIST_SIZE})
 * @param initialWindowSize each stream's receive window: request body bytes a client may send ahead
 * @param floodWindow the window the flood limits count in
 * @param maxResets streams the client resets within the window (rapid reset, CVE-2023-44487)
 * @param maxSettings SETTINGS frames within the window
 * @param maxPings PING frames within the window
 * @param maxEmptyData DATA frames with neither payload nor end of stream within the window
 * @param maxContinuations CONTINUATION frames in one header block (CONTINUATION flood, CVE-2024-27316)
 */
public record Http2Config(int maxConcurrentStreams, int maxHeaderListSize, int initialWindowSize,
    Duration floodWindow, int maxResets, int maxSettings, int maxPings, int maxEmptyData, int maxContinuations) {

  public static Http2Config defaults() {
    return new Http2Config(100, 16384, 256 * 1024, Duration.ofSeconds(10), 100, 100, 100, 100, 8);
  }
}
