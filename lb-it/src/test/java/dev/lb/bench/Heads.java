package dev.lb.bench;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;

/**
 * Request and response heads as lb's codecs decode them: the header names and values are the objects Netty's decoder
 * makes, in headers from the decoder's own factory, so the benchmarks see the types (and validation) of production.
 */
final class Heads {
  /** The factory of the decoders' headers (lb's codecs keep Netty's default). */
  static final HttpHeadersFactory FACTORY = new HttpDecoderConfig().getHeadersFactory();

  /**
   * A browser's request line and fields (Host, User-Agent, Accept, Accept-Encoding, Accept-Language, Cookie), each
   * ending in CRLF, without the blank line that ends a head: benchmarks append their own fields.
   */
  static final String BROWSER_REQUEST = "GET /app/orders?page=2 HTTP/1.1\r\n"
      + "Host: shop.example.com\r\n"
      + "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
      + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
      + "Accept-Encoding: gzip, deflate, br, zstd\r\n"
      + "Accept-Language: en-GB,en;q=0.5\r\n"
      + "Cookie: session=9f86d081884c7d659a2feaa0c55ad015; theme=dark; consent=1\r\n";

  private Heads() {}

  /** The headers of a request head ({@code "GET / HTTP/1.1\r\n...\r\n\r\n"}). */
  static HttpHeaders request(String head) {
    return decode(new EmbeddedChannel(new HttpRequestDecoder(new HttpDecoderConfig())), head);
  }

  /** The headers of a response head. */
  static HttpHeaders response(String head) {
    return decode(new EmbeddedChannel(new HttpResponseDecoder(new HttpDecoderConfig())), head);
  }

  private static HttpHeaders decode(EmbeddedChannel channel, String head) {
    channel.writeInbound(Unpooled.copiedBuffer(head, StandardCharsets.US_ASCII));
    Object decoded = channel.readInbound();
    try {
      if (!(decoded instanceof HttpMessage) || ((HttpMessage) decoded).decoderResult().isFailure()) {
        throw new IllegalArgumentException("does not decode: " + decoded);
      }
      return ((HttpMessage) decoded).headers();
    } finally {
      ReferenceCountUtil.release(decoded);
      channel.finishAndReleaseAll();
    }
  }

  /** A fresh copy of {@code template}, as the decoder would have made it. */
  static HttpHeaders copy(HttpHeaders template) {
    return FACTORY.newHeaders().add(template);
  }
}
