package dev.lb.proxy;

import dev.lb.config.Http2Config;
import dev.lb.http2.Http2Limits;
import dev.lb.http2.Http2ServerCodecs;
import dev.lb.metrics.ProxyMetrics;
import io.netty.handler.codec.http2.Http2FrameCodec;
import java.time.Duration;

/**
 * Makes the frame codec of a client HTTP/2 connection from {@code listen.http2}: lb's settings and the flood
 * defences of {@link Http2ServerCodecs}, each flood counted in {@code lb_http2_floods_total{kind}}.
 */
final class Http2Codecs {
  private Http2Codecs() {}

  static Http2FrameCodec server(Http2Config config, Duration gracefulShutdown, ProxyMetrics metrics) {
    return Http2ServerCodecs.newCodec(limits(config, gracefulShutdown), flood -> metrics.http2Flood(flood.key()));
  }

  static Http2Limits limits(Http2Config c, Duration gracefulShutdown) {
    return new Http2Limits(c.maxConcurrentStreams(), c.maxHeaderListSize(), c.initialWindowSize(),
        Http2Limits.MIN_FRAME_SIZE, c.floodWindow(), c.maxResets(), c.maxSettings(), c.maxPings(), c.maxEmptyData(),
        c.maxContinuations(), gracefulShutdown);
  }
}
