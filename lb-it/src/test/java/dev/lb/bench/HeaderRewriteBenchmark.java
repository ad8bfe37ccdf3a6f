package dev.lb.bench;

import dev.lb.proxy.ForwardedHeaders;
import dev.lb.proxy.RequestIds;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The header work of every proxied request and response, which rewrites heads in place.
 *
 * <p>Since the rewrite changes its input, each call works on a fresh copy of a template head made in the benchmark
 * method itself (not with {@code @Setup(Level.Invocation)}, whose timing overhead is larger than what is measured
 * here). The templates are decoded once by Netty's decoders, so names, values and the headers' class are those of
 * production; the copy takes the decoder-made objects as they are. {@code copyRequest} and {@code copyResponse}
 * measure the copy alone: subtract them (time and {@code gc.alloc.rate.norm}) from the benchmarks that include it.
 *
 * <ul>
 *   <li>{@code rewriteRequest}: {@link RequestIds#ensure} then {@link ForwardedHeaders#rewriteRequest}, as lb's
 *       exchange calls them, on a browser request (Host, User-Agent, Accept, Accept-Encoding, Accept-Language, Cookie,
 *       {@code Connection: keep-alive}); with {@code incomingXff} the request already carries an
 *       {@code X-Forwarded-For} from a proxy in front, which lb extends.
 *   <li>{@code rewriteResponse}: {@link ForwardedHeaders#rewriteResponse} on a typical backend response (Date, Server,
 *       Content-Type, Content-Length, Cache-Control, ETag, Vary, Set-Cookie, {@code Connection: keep-alive},
 *       {@code Keep-Alive}). lb then also sets {@code X-Request-Id} on it, not included here.
 *   <li>{@code generateRequestId}: {@link RequestIds#generate} alone: 32 hex digits from 128 random bits.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-XX:+UseG1GC", "-Xms1g", "-Xmx1g"})
public class HeaderRewriteBenchmark {
  static final AsciiString CLIENT_IP = AsciiString.cached("198.51.100.23");

  /** A browser's request head, as decoded. */
  @State(Scope.Benchmark)
  public static class Request {
    @Param({"false", "true"})
    boolean incomingXff;

    HttpHeaders template;

    @Setup(Level.Trial)
    public void setUp() {
      template = Heads.request(Heads.BROWSER_REQUEST
          + (incomingXff ? "X-Forwarded-For: 203.0.113.7\r\n" : "")
          + "Connection: keep-alive\r\n"
          + "\r\n");
      // The rewrite does what it should, once, before timing it.
      HttpHeaders h = Heads.copy(template);
      CharSequence id = RequestIds.ensure(h);
      ForwardedHeaders.rewriteRequest(h, CLIENT_IP, false);
      String xff = incomingXff ? "203.0.113.7, 198.51.100.23" : "198.51.100.23";
      if (h.contains("connection") || !xff.contentEquals(h.get("x-forwarded-for"))
          || !"shop.example.com".contentEquals(h.get("x-forwarded-host")) || id.length() != 32
          || template.contains("x-request-id") || template.size() != (incomingXff ? 8 : 7)) {
        throw new IllegalStateException("unexpected rewrite: " + h);
      }
    }
  }

  /** A backend's response head, as decoded. */
  @State(Scope.Benchmark)
  public static class Response {
    HttpHeaders template;

    @Setup(Level.Trial)
    public void setUp() {
      template = Heads.response("HTTP/1.1 200 OK\r\n"
          + "Date: Tue, 15 Jul 2025 10:12:31 GMT\r\n"
          + "Server: nginx/1.27.0\r\n"
          + "Content-Type: text/html; charset=utf-8\r\n"
          + "Content-Length: 18342\r\n"
          + "Cache-Control: private, max-age=0, must-revalidate\r\n"
          + "ETag: \"5f2b-64a1c3e2\"\r\n"
          + "Vary: Accept-Encoding\r\n"
          + "Set-Cookie: session=9f86d081884c7d659a2feaa0c55ad015; Path=/; HttpOnly; Secure; SameSite=Lax\r\n"
          + "Connection: keep-alive\r\n"
          + "Keep-Alive: timeout=5\r\n"
          + "\r\n");
      HttpHeaders h = Heads.copy(template);
      ForwardedHeaders.rewriteResponse(h);
      if (h.contains("connection") || h.contains("keep-alive") || h.size() != 8) {
        throw new IllegalStateException("unexpected rewrite: " + h);
      }
    }
  }

  @Benchmark
  public HttpHeaders copyRequest(Request request) {
    return Heads.copy(request.template);
  }

  @Benchmark
  public void rewriteRequest(Request request, Blackhole bh) {
    HttpHeaders h = Heads.copy(request.template);
    bh.consume(RequestIds.ensure(h));
    ForwardedHeaders.rewriteRequest(h, CLIENT_IP, false);
    bh.consume(h);
  }

  @Benchmark
  public HttpHeaders copyResponse(Response response) {
    return Heads.copy(response.template);
  }

  @Benchmark
  public HttpHeaders rewriteResponse(Response response) {
    HttpHeaders h = Heads.copy(response.template);
    ForwardedHeaders.rewriteResponse(h);
    return h;
  }

  @Benchmark
  public CharSequence generateRequestId() {
    return RequestIds.generate();
  }
}
