package dev.lb.proxy;

import dev.lb.config.Http2Config;
import dev.lb.metrics.ProxyMetrics;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Settings;

/** Makes the frame codec of a client HTTP/2 connection from {@code listen.http2}. */
final class Http2Codecs {
  private Http2Codecs() {}

  static Http2FrameCodec server(Http2Config config, ProxyMetrics metrics) {
    return Http2FrameCodecBuilder.forServer()
        .initialSettings(Http2Settings.defaultSettings()
            .maxConcurrentStreams(config.maxConcurrentStreams())
            .maxHeaderListSize(config.maxHeaderListSize())
            .initialWindowSize(config.initialWindowSize()))
        .validateHeaders(true)
        .build();
  }
}
