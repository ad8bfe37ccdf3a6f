package dev.lb.proxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The guard drops the trailer fields that must not be trailers from a request's last content. */
class GuardTrailersTest {
  @Test
  void theGuardPassesOnARequestsLastContentWithoutForbiddenTrailers() {
    EmbeddedChannel ch = new EmbeddedChannel(new FrontendCodec(new HttpDecoderConfig()),
        new RequestGuard(TestSettings.settings(1000)));
    try {
      ch.writeInbound(Unpooled.copiedBuffer("POST /up HTTP/1.1\r\nHost: lb\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "3\r\nabc\r\n0\r\nHost: evil\r\nContent-Length: 99\r\nAuthorization: Bearer t\r\nX-Checksum: c1\r\n\r\n",
          US_ASCII));
      List<Object> in = new ArrayList<>();
      for (Object m; (m = ch.readInbound()) != null; ) {
        in.add(m);
      }
      assertThat(in.get(0)).isInstanceOf(HttpRequest.class);
      Object last = in.get(in.size() - 1);
      assertThat(last).isInstanceOf(LastHttpContent.class);
      assertThat(names(((LastHttpContent) last).trailingHeaders())).containsExactly("X-Checksum");
      for (Object m : in) {
        if (m instanceof HttpContent) {
          HttpContent c = (HttpContent) m;
          assertThat(c.refCnt()).isEqualTo(1);
          c.release();
        }
      }
    } finally {
      ch.finishAndReleaseAll();
    }
  }

  private static List<String> names(HttpHeaders headers) {
    List<String> names = new ArrayList<>();
    for (Map.Entry<String, String> e : headers) {
      names.add(e.getKey());
    }
    return names;
  }
}
