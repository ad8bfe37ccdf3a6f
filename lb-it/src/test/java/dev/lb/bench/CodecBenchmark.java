package dev.lb.bench;

import dev.lb.pool.BackendCodec;
import dev.lb.pool.RawRequest;
import dev.lb.pool.RawResponse;
import dev.lb.proxy.ForwardedHeaders;
import dev.lb.proxy.FrontendCodec;
import dev.lb.proxy.RequestIds;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The codec work of one proxied small request, as the event loop does it: the client's request head decoded by
 * {@link FrontendCodec}, rewritten for the backend and encoded by {@link BackendCodec}; the backend's response head
 * and its 13-byte body decoded by {@code BackendCodec}, given lb's {@code X-Request-Id}, and encoded for the client by
 * {@code FrontendCodec}. Both codecs run in {@link EmbeddedChannel}s (no sockets, no pipeline of lb's other
 * handlers), so this is the part of a request's cost that the byte-forwarding paths change.
 *
 * <p>{@code raw}: {@code true} is lb's default (a plain head is scanned in place and forwarded as its bytes, with
 * only the changed lines written: {@link RawRequest}, {@link RawResponse}); {@code false} is what
 * {@code -Dlb.rawRequests=false -Dlb.rawHeads=false} give, Netty's decoders and encoders with lb's header rewrites
 * ({@link RequestIds#ensure}, {@link ForwardedHeaders}). Read {@code gc.alloc.rate.norm} (with {@code -prof gc}) next
 * to the time: the difference is the allocation per request the raw paths save.
 *
 * <p>The setup checks once that each path takes the road it is meant to (a raw head on {@code true}, a decoded one on
 * {@code false}), so a result is never silently for the other path.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-XX:+UseG1GC", "-Xms1g", "-Xmx1g"})
@State(Scope.Thread)
public class CodecBenchmark {
  private static final String REQUEST = Heads.BROWSER_REQUEST
      + "Connection: keep-alive\r\n"
      + "\r\n";
  private static final String RESPONSE = "HTTP/1.1 200 OK\r\n"
      + "Server: nginx/1.22.1\r\n"
      + "Date: Sun, 06 Dec 2026 19:00:00 GMT\r\n"
      + "Content-Type: text/plain\r\n"
      + "Content-Length: 13\r\n"
      + "Connection: keep-alive\r\n"
      + "\r\n"
      + "hello, world\n";

  @Param({"true", "false"})
  boolean raw;

  private EmbeddedChannel client;
  private EmbeddedChannel backend;
  private byte[] request;
  private byte[] response;

  @Setup(Level.Trial)
  public void setUp() {
    client = new EmbeddedChannel(new FrontendCodec(new HttpDecoderConfig(), raw));
    backend = new EmbeddedChannel(new BackendCodec(new HttpDecoderConfig(), raw));
    request = REQUEST.getBytes(StandardCharsets.US_ASCII);
    response = RESPONSE.getBytes(StandardCharsets.US_ASCII);
    // One round, checked: the road taken and the bytes on both sides.
    HttpRequest req = decodeRequest();
    if (req == null || (req instanceof RawRequest) != raw) {
      throw new IllegalStateException("request path not as meant for raw=" + raw + ": " + req);
    }
    StringBuilder upstream = new StringBuilder();
    drain(sendToBackend(req), upstream);
    String up = upstream.toString().toLowerCase(Locale.ROOT);
    if (!up.startsWith("get /app/orders?page=2 http/1.1\r\n") || !up.contains("\r\nx-forwarded-for: 198.51.100.23\r\n")
        || !up.contains("\r\nx-request-id: ") || up.contains("connection: keep-alive")) {
      throw new IllegalStateException("unexpected request to the backend: " + upstream);
    }
    HttpResponse res = decodeResponse();
    if ((res instanceof RawResponse) != raw) {
      throw new IllegalStateException("response path not as meant for raw=" + raw + ": " + res);
    }
    StringBuilder down = new StringBuilder();
    drain(sendToClient(res), down);
    String toClient = down.toString();
    if (!toClient.startsWith("HTTP/1.1 200 OK\r\n") || !toClient.endsWith("\r\n\r\nhello, world\n")
        || !toClient.toLowerCase(Locale.ROOT).contains("\r\nx-request-id: ")) {
      throw new IllegalStateException("unexpected response to the client: " + toClient);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    client.finishAndReleaseAll();
    backend.finishAndReleaseAll();
  }

  /** The whole round: request decoded, rewritten and encoded; response decoded, marked and encoded. */
  @Benchmark
  public int round() {
    HttpRequest req = decodeRequest();
    int bytes = drain(sendToBackend(req), null);
    HttpResponse res = decodeResponse();
    return bytes + drain(sendToClient(res), null);
  }

  /** The bytes as a socket read brings them: a buffer from the channel's allocator. */
  private static ByteBuf read(EmbeddedChannel channel, byte[] bytes) {
    return channel.alloc().directBuffer(bytes.length).writeBytes(bytes);
  }

  private HttpRequest decodeRequest() {
    client.writeInbound(read(client, request));
    HttpRequest req = (HttpRequest) client.readInbound();
    // A bodiless request ends with an empty last piece on either path.
    for (Object m; (m = client.readInbound()) != null; ) {
      ReferenceCountUtil.release(m);
    }
    return req;
  }

  private EmbeddedChannel sendToBackend(HttpRequest req) {
    CharSequence id;
    if (req instanceof RawRequest) {
      id = RequestIds.generate();
      ((RawRequest) req).forward(id, HeaderRewriteBenchmark.CLIENT_IP);
    } else {
      id = RequestIds.ensure(req.headers());
      ForwardedHeaders.rewriteRequest(req.headers(), HeaderRewriteBenchmark.CLIENT_IP, false);
    }
    backend.write(req);
    backend.writeOneOutbound(LastHttpContent.EMPTY_LAST_CONTENT);
    backend.flushOutbound();
    return backend;
  }

  private HttpResponse decodeResponse() {
    backend.writeInbound(read(backend, response));
    HttpResponse res = (HttpResponse) backend.readInbound();
    if (res instanceof RawResponse) {
      ((RawResponse) res).set(RequestIds.HEADER, RequestIds.generate());
    } else {
      ForwardedHeaders.rewriteResponse(res.headers());
      res.headers().set(RequestIds.HEADER, RequestIds.generate());
    }
    return res;
  }

  private EmbeddedChannel sendToClient(HttpResponse res) {
    client.write(res);
    for (Object m; (m = backend.readInbound()) != null; ) {
      client.write(m);
    }
    client.flushOutbound();
    return client;
  }

  /** Releases what {@code channel} wrote (appending it to {@code text} when given); how many bytes it was. */
  private static int drain(EmbeddedChannel channel, @Nullable StringBuilder text) {
    int bytes = 0;
    for (Object m; (m = channel.readOutbound()) != null; ) {
      ByteBuf b = (ByteBuf) m;
      bytes += b.readableBytes();
      if (text != null) {
        text.append(b.toString(StandardCharsets.US_ASCII));
      }
      b.release();
    }
    return bytes;
  }
}
