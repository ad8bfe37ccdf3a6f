package dev.lb.pool;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A client's request head kept as the bytes it arrived in, for the plain bodiless case the client codec's scanner
 * vouches for byte by byte: forwarding it costs one copy of those bytes instead of decoding every field into a header
 * map and encoding it again.
 *
 * <p>The scanner has already checked what the decoder and the request guard would check (the request line, each field
 * line, one valid {@code Host}); the facts the proxy needs are read here without a map ({@link #keepAlive()},
 * {@link #get(CharSequence)}). What lb adds for the backend ({@code X-Request-Id} and {@code X-Forwarded-*}, set by
 * {@link #forward}) travels beside the bytes; the hop-by-hop lines the scanner marked ({@code Connection},
 * {@code Keep-Alive}, {@code Proxy-Connection}, {@code TE}) and a client's {@code X-Forwarded-Proto} and
 * {@code X-Forwarded-Host}, which lb replaces, are left out when the head is written.
 *
 * <p>{@link #headers()} is the way out for code that needs a map: it decodes the fields once, with lb's changes
 * applied if {@link #forward} ran, and from then on the request is written from that map as any decoded one. Holds
 * a copy of the head, not a buffer: nothing to release, and a retry writes it again.
 */
public final class RawRequest implements HttpRequest {
  private static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
  private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
  private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
  private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
  private static final AsciiString HTTP = AsciiString.cached("http");
  /** {@code X-Forwarded-Proto}: {@code https} for a client over TLS. */
  private AsciiString forwardedProto = HTTP;
  private static final AsciiString[] HOP_BY_HOP = {
    AsciiString.cached("connection"), AsciiString.cached("keep-alive"), AsciiString.cached("proxy-connection"),
    AsciiString.cached("te")
  };

  /** The head as received: request line, field lines, empty line. */
  private final byte[] head;
  private HttpMethod method;
  private final int uriStart;
  private final int uriEnd;
  /** Where the request line ends (after its CRLF). */
  private final int lineEnd;
  private final int hostStart;
  private final int hostEnd;
  private final boolean keepAlive;
  /** Bit i set: field line i (the first after the request line is 1) is left out when forwarded. */
  private final long dropped;
  private HttpVersion version;
  private @Nullable String uri;
  private @Nullable AsciiString hostValue;
  /** Set by {@link #forward}: lb's fields for the backend. */
  private @Nullable CharSequence requestId;
  private @Nullable CharSequence forwardedFor;
  /** The fields as a map, once something asked for them; then the request is written from it. */
  private @Nullable HttpHeaders decoded;
  private DecoderResult result = DecoderResult.SUCCESS;

  /**
   * @param head the head's bytes, owned by the request from now on
   * @param dropped bit i set: field line i is hop-by-hop or one lb replaces, left out when forwarded
   */
  public RawRequest(byte[] head, HttpMethod method, int uriStart, int uriEnd, HttpVersion version, int lineEnd,
      int hostStart, int hostEnd, boolean keepAlive, long dropped) {
    this.head = head;
    this.method = method;
    this.uriStart = uriStart;
    this.uriEnd = uriEnd;
    this.version = version;
    this.lineEnd = lineEnd;
    this.hostStart = hostStart;
    this.hostEnd = hostEnd;
    this.keepAlive = keepAlive;
    this.dropped = dropped;
  }

  /** Whether the request lets the client connection stay open ({@code Connection} and the version). */
  public boolean keepAlive() {
    return keepAlive;
  }

  /** How many bytes the head took as received. */
  public int headLength() {
    return head.length;
  }

  /** Whether the fields were decoded into a map ({@link #headers()}): the request is then written from it. */
  public boolean decoded() {
    return decoded != null;
  }

  /**
   * Sets what lb adds for the backend, as {@code RequestIds} and {@code ForwardedHeaders} do on a decoded head: the
   * request id, {@code X-Forwarded-For} (the scanner took no head that has one), {@code X-Forwarded-Proto} and
   * {@code X-Forwarded-Host} from {@code Host}.
   */
  public void forward(CharSequence requestId, CharSequence clientIp) {
    forward(requestId, clientIp, HTTP);
  }

  /** As {@link #forward(CharSequence, CharSequence)}, with {@code X-Forwarded-Proto: proto}. */
  public void forward(CharSequence requestId, CharSequence clientIp, AsciiString proto) {
    this.requestId = requestId;
    this.forwardedFor = clientIp;
    this.forwardedProto = proto;
    HttpHeaders h = decoded;
    if (h != null) {
      applyForward(h);
    }
  }

  /** The value of the first field named {@code name} (any case), lb's own fields included, or null. */
  public @Nullable CharSequence get(CharSequence name) {
    if (decoded != null) {
      return decoded.get(name);
    }
    CharSequence own = own(name);
    if (own != null) {
      return own;
    }
    int end = head.length - 2;
    int line = 1;
    for (int at = lineEnd; at < end; at = lineAfter(at), line++) {
      if (named(at, line, name)) {
        int from = valueStart(at);
        return new AsciiString(head, from, valueEnd(from, at) - from, false);
      }
    }
    return null;
  }

  /** Every value of the fields named {@code name} (any case), as {@code HttpHeaders.getAll} gives them. */
  public List<String> getAll(CharSequence name) {
    if (decoded != null) {
      return decoded.getAll(name);
    }
    List<String> all = new ArrayList<>(1);
    CharSequence own = own(name);
    if (own != null) {
      all.add(own.toString());
      return all;
    }
    int end = head.length - 2;
    int line = 1;
    for (int at = lineEnd; at < end; at = lineAfter(at), line++) {
      if (named(at, line, name)) {
        int from = valueStart(at);
        all.add(new String(head, from, valueEnd(from, at) - from, StandardCharsets.ISO_8859_1));
      }
    }
    return all;
  }

  /**
   * Whether field line number {@code line}, starting at {@code at}, is named {@code name}; once {@link #forward} ran,
   * the lines left out when forwarding are not.
   */
  private boolean named(int at, int line, CharSequence name) {
    return ((dropped & (1L << line)) == 0 || !forwarding()) && colon(at) - at == name.length() && is(at, name);
  }

  private int valueStart(int line) {
    return skipOws(colon(line) + 1, lineAfter(line) - 2);
  }

  private int valueEnd(int valueStart, int line) {
    return trimOws(valueStart, lineAfter(line) - 2);
  }

  /** The request target as received (a view of the head, not a copy). */
  public AsciiString target() {
    return new AsciiString(head, uriStart, uriEnd - uriStart, false);
  }

  /** The {@code Host} value, as received. */
  public AsciiString host() {
    AsciiString h = hostValue;
    if (h == null) {
      h = hostValue = new AsciiString(head, hostStart, hostEnd - hostStart, false);
    }
    return h;
  }

  private boolean forwarding() {
    return requestId != null;
  }

  private @Nullable CharSequence own(CharSequence name) {
    if (!forwarding()) {
      return null;
    }
    if (X_REQUEST_ID.contentEqualsIgnoreCase(name)) {
      return requestId;
    }
    if (X_FORWARDED_FOR.contentEqualsIgnoreCase(name)) {
      return forwardedFor;
    }
    if (X_FORWARDED_PROTO.contentEqualsIgnoreCase(name)) {
      return forwardedProto;
    }
    if (X_FORWARDED_HOST.contentEqualsIgnoreCase(name)) {
      return host();
    }
    return null;
  }

  /** The head's length once written (an estimate: lb's fields at their usual sizes). */
  public int estimatedSize() {
    return head.length + 160;
  }

  /**
   * Writes the head as the backend receives it: the request line in the version set here, the received fields less
   * the dropped lines (once {@link #forward} ran), lb's fields, the empty line. Only while not {@link #decoded()}.
   */
  public void writeTo(ByteBuf out) {
    int versionStart = lineEnd - 10;   // "HTTP/1.x\r\n"
    out.writeBytes(head, 0, versionStart);
    out.writeCharSequence(version.text(), StandardCharsets.US_ASCII);
    out.writeByte('\r');
    out.writeByte('\n');
    boolean forwarding = forwarding();
    if (!forwarding) {
      out.writeBytes(head, lineEnd, head.length - lineEnd);
      return;
    }
    int end = head.length - 2;
    int line = 1;
    for (int at = lineEnd; at < end; line++) {
      int next = lineAfter(at);
      if ((dropped & (1L << line)) == 0) {
        out.writeBytes(head, at, next - at);
      }
      at = next;
    }
    writeField(out, X_REQUEST_ID, requestId);
    writeField(out, X_FORWARDED_FOR, forwardedFor);
    writeField(out, X_FORWARDED_PROTO, forwardedProto);
    writeField(out, X_FORWARDED_HOST, null);
    out.writeByte('\r');
    out.writeByte('\n');
  }

  private void writeField(ByteBuf out, AsciiString name, @Nullable CharSequence value) {
    out.writeBytes(name.array(), name.arrayOffset(), name.length());
    out.writeByte(':');
    out.writeByte(' ');
    if (value == null) {
      out.writeBytes(head, hostStart, hostEnd - hostStart);
    } else if (value instanceof AsciiString) {
      AsciiString a = (AsciiString) value;
      out.writeBytes(a.array(), a.arrayOffset(), a.length());
    } else {
      out.writeCharSequence(value, StandardCharsets.ISO_8859_1);
    }
    out.writeByte('\r');
    out.writeByte('\n');
  }

  private int lineAfter(int at) {
    int i = at;
    while (head[i] != '\n') {
      i++;
    }
    return i + 1;
  }

  private int colon(int at) {
    int i = at;
    while (head[i] != ':') {
      i++;
    }
    return i;
  }

  private int skipOws(int from, int to) {
    while (from < to && (head[from] == ' ' || head[from] == '\t')) {
      from++;
    }
    return from;
  }

  private int trimOws(int from, int to) {
    while (to > from && (head[to - 1] == ' ' || head[to - 1] == '\t')) {
      to--;
    }
    return to;
  }

  private boolean is(int at, CharSequence name) {
    for (int i = 0; i < name.length(); i++) {
      if (AsciiString.toLowerCase((char) (head[at + i] & 0xff)) != AsciiString.toLowerCase(name.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  /**
   * The fields as a map, as Netty's decoder would have made it, with lb's changes if {@link #forward} ran; made at the
   * first call, and from then on the one the request is written from.
   */
  @Override
  public HttpHeaders headers() {
    HttpHeaders h = decoded;
    if (h != null) {
      return h;
    }
    h = DefaultHttpHeadersFactory.headersFactory().newHeaders();
    int end = head.length - 2;
    for (int at = lineEnd; at < end; at = lineAfter(at)) {
      int from = valueStart(at);
      h.add(new String(head, at, colon(at) - at, StandardCharsets.ISO_8859_1),
          new String(head, from, valueEnd(from, at) - from, StandardCharsets.ISO_8859_1));
    }
    if (forwarding()) {
      applyForward(h);
    }
    decoded = h;
    return h;
  }

  private void applyForward(HttpHeaders h) {
    for (AsciiString name : HOP_BY_HOP) {
      h.remove(name);
    }
    h.set(X_REQUEST_ID, requestId);
    h.set(X_FORWARDED_FOR, forwardedFor);
    h.set(X_FORWARDED_PROTO, forwardedProto);
    h.set(X_FORWARDED_HOST, host());
  }

  @Override
  public HttpMethod method() {
    return method;
  }

  @Override
  @Deprecated
  public HttpMethod getMethod() {
    return method;
  }

  @Override
  public HttpRequest setMethod(HttpMethod method) {
    headers();
    this.method = method;
    return this;
  }

  @Override
  public String uri() {
    String u = uri;
    if (u == null) {
      u = uri = new String(head, uriStart, uriEnd - uriStart, StandardCharsets.ISO_8859_1);
    }
    return u;
  }

  @Override
  @Deprecated
  public String getUri() {
    return uri();
  }

  @Override
  public HttpRequest setUri(String uri) {
    headers();
    this.uri = uri;
    return this;
  }

  @Override
  public HttpVersion protocolVersion() {
    return version;
  }

  @Override
  @Deprecated
  public HttpVersion getProtocolVersion() {
    return version;
  }

  @Override
  public HttpRequest setProtocolVersion(HttpVersion version) {
    this.version = version;
    return this;
  }

  @Override
  public DecoderResult decoderResult() {
    return result;
  }

  @Override
  @Deprecated
  public DecoderResult getDecoderResult() {
    return result;
  }

  @Override
  public void setDecoderResult(DecoderResult result) {
    this.result = result;
  }

  @Override
  public String toString() {
    return "RawRequest(" + method + " " + uri() + " " + version + ", " + head.length + " bytes)";
  }
}
