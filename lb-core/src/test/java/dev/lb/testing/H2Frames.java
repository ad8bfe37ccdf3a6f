package dev.lb.testing;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.jspecify.annotations.Nullable;

/**
 * HTTP/2 frames built byte by byte, for sending what no well-behaved client would (floods, odd framing), and read
 * back; and a blocking client over a plain or TLS socket that writes such frames and collects what the server
 * answers, until GOAWAY or end of stream.
 *
 * <p>Header blocks are HPACK without Huffman coding or the dynamic table (static-table names, literals "without
 * indexing"), so every block stands alone and may be sent any number of times, in any order.
 *
 * <pre>{@code
 * try (H2Frames.Client c = H2Frames.connect("127.0.0.1", port, Duration.ofSeconds(5))) {
 *   c.writeRaw(H2Frames.preface());
 *   c.write(H2Frames.settings());
 *   for (int i = 0; i < 1000 && c.write(H2Frames.ping(i, false)); i++) {}
 *   H2Frames.Result r = c.awaitGoAwayOrEof(Duration.ofSeconds(5));
 *   // r.goAway().orElseThrow().errorCode() == H2Frames.ENHANCE_YOUR_CALM, r.written() <= 102
 * }
 * }</pre>
 */
public final class H2Frames {
  public static final int DATA = 0x0;
  public static final int HEADERS = 0x1;
  public static final int PRIORITY = 0x2;
  public static final int RST_STREAM = 0x3;
  public static final int SETTINGS = 0x4;
  public static final int PUSH_PROMISE = 0x5;
  public static final int PING = 0x6;
  public static final int GOAWAY = 0x7;
  public static final int WINDOW_UPDATE = 0x8;
  public static final int CONTINUATION = 0x9;

  public static final int END_STREAM = 0x1;
  public static final int ACK = 0x1;
  public static final int END_HEADERS = 0x4;
  public static final int PADDED = 0x8;
  public static final int PRIORITY_FLAG = 0x20;

  public static final int SETTINGS_HEADER_TABLE_SIZE = 0x1;
  public static final int SETTINGS_ENABLE_PUSH = 0x2;
  public static final int SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;
  public static final int SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
  public static final int SETTINGS_MAX_FRAME_SIZE = 0x5;
  public static final int SETTINGS_MAX_HEADER_LIST_SIZE = 0x6;

  public static final long NO_ERROR = 0x0;
  public static final long PROTOCOL_ERROR = 0x1;
  public static final long INTERNAL_ERROR = 0x2;
  public static final long FLOW_CONTROL_ERROR = 0x3;
  public static final long STREAM_CLOSED = 0x5;
  public static final long FRAME_SIZE_ERROR = 0x6;
  public static final long REFUSED_STREAM = 0x7;
  public static final long CANCEL = 0x8;
  public static final long COMPRESSION_ERROR = 0x9;
  public static final long ENHANCE_YOUR_CALM = 0xb;

  /** The frame header: 24-bit length, type, flags, 31-bit stream id. */
  public static final int FRAME_HEADER_LENGTH = 9;

  private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(US_ASCII);

  private H2Frames() {}

  // ---- building frames ----

  /** The client connection preface, which comes before the client's first SETTINGS frame. */
  public static byte[] preface() {
    return PREFACE.clone();
  }

  /** A frame of any type: the 9-byte header, then {@code payload}. */
  public static byte[] frame(int type, int flags, int streamId, byte[] payload) {
    if (payload.length >= 1 << 24) {
      throw new IllegalArgumentException("payload too long for a frame: " + payload.length);
    }
    ByteBuffer b = ByteBuffer.allocate(FRAME_HEADER_LENGTH + payload.length);
    b.put((byte) (payload.length >>> 16)).put((byte) (payload.length >>> 8)).put((byte) payload.length);
    b.put((byte) type).put((byte) flags).putInt(streamId & 0x7fff_ffff).put(payload);
    return b.array();
  }

  /** A SETTINGS frame of {@code idsAndValues} pairs, such as {@code SETTINGS_MAX_FRAME_SIZE, 32768}. */
  public static byte[] settings(long... idsAndValues) {
    if (idsAndValues.length % 2 != 0) {
      throw new IllegalArgumentException("settings come in pairs of an id and a value");
    }
    ByteBuffer b = ByteBuffer.allocate(idsAndValues.length / 2 * 6);
    for (int i = 0; i < idsAndValues.length; i += 2) {
      b.putShort((short) idsAndValues[i]).putInt((int) idsAndValues[i + 1]);
    }
    return frame(SETTINGS, 0, 0, b.array());
  }

  public static byte[] settingsAck() {
    return frame(SETTINGS, ACK, 0, new byte[0]);
  }

  /** The preface and an empty SETTINGS frame: what a client sends first. */
  public static byte[] start() {
    return concat(preface(), settings());
  }

  /** A GET of {@code path} at {@code authority} over https, in one HEADERS frame ending the stream. */
  public static byte[] get(int streamId, String authority, String path) {
    return headers(streamId, END_STREAM | END_HEADERS, requestBlock("GET", "https", authority, path));
  }

  /** A HEADERS frame carrying {@code block} (or its first fragment), with {@code flags} as given. */
  public static byte[] headers(int streamId, int flags, byte[] block) {
    return frame(HEADERS, flags, streamId, block);
  }

  public static byte[] continuation(int streamId, boolean endHeaders, byte[] fragment) {
    return frame(CONTINUATION, endHeaders ? END_HEADERS : 0, streamId, fragment);
  }

  /**
   * A header block cut into a HEADERS frame and CONTINUATION frames of {@code fragment} bytes at most (the last one
   * flagged END_HEADERS), {@code 1 + ceil(block / fragment) - 1} frames in all.
   */
  public static List<byte[]> headerBlock(int streamId, byte[] block, int fragment, boolean endStream) {
    if (fragment < 1) {
      throw new IllegalArgumentException("fragment must be positive");
    }
    List<byte[]> frames = new ArrayList<>();
    int at = 0;
    do {
      int end = Math.min(block.length, at + fragment);
      byte[] part = Arrays.copyOfRange(block, at, end);
      boolean last = end == block.length;
      if (at == 0) {
        frames.add(headers(streamId, (last ? END_HEADERS : 0) | (endStream ? END_STREAM : 0), part));
      } else {
        frames.add(continuation(streamId, last, part));
      }
      at = end;
    } while (at < block.length);
    return frames;
  }

  public static byte[] data(int streamId, byte[] data, boolean endStream) {
    return frame(DATA, endStream ? END_STREAM : 0, streamId, data);
  }

  /** A DATA frame flagged PADDED: the pad length byte, {@code data}, then {@code padding} zero bytes. */
  public static byte[] paddedData(int streamId, byte[] data, int padding, boolean endStream) {
    if (padding < 0 || padding > 255) {
      throw new IllegalArgumentException("padding is 0 to 255 bytes: " + padding);
    }
    byte[] payload = new byte[1 + data.length + padding];
    payload[0] = (byte) padding;
    System.arraycopy(data, 0, payload, 1, data.length);
    return frame(DATA, PADDED | (endStream ? END_STREAM : 0), streamId, payload);
  }

  public static byte[] rstStream(int streamId, long errorCode) {
    return frame(RST_STREAM, 0, streamId, ByteBuffer.allocate(4).putInt((int) errorCode).array());
  }

  public static byte[] ping(long opaqueData, boolean ack) {
    return frame(PING, ack ? ACK : 0, 0, ByteBuffer.allocate(8).putLong(opaqueData).array());
  }

  public static byte[] windowUpdate(int streamId, int increment) {
    return frame(WINDOW_UPDATE, 0, streamId, ByteBuffer.allocate(4).putInt(increment & 0x7fff_ffff).array());
  }

  public static byte[] goAway(int lastStreamId, long errorCode, String debugData) {
    byte[] debug = debugData.getBytes(UTF_8);
    return frame(GOAWAY, 0, 0,
        ByteBuffer.allocate(8 + debug.length).putInt(lastStreamId).putInt((int) errorCode).put(debug).array());
  }

  public static byte[] concat(byte[]... parts) {
    return concat(Arrays.asList(parts));
  }

  public static byte[] concat(List<byte[]> parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  /** {@code frame} repeated {@code times}, as one array. */
  public static byte[] repeat(byte[] frame, int times) {
    byte[] all = new byte[frame.length * times];
    for (int i = 0; i < times; i++) {
      System.arraycopy(frame, 0, all, i * frame.length, frame.length);
    }
    return all;
  }

  // ---- HPACK ----

  /**
   * A request's header block: the pseudo-headers, then {@code extra} as name, value pairs (names lower-cased).
   * GET, POST, {@code /}, http and https are indexed in the static table; the rest are literals never indexed.
   */
  public static byte[] requestBlock(String method, String scheme, String authority, String path, String... extra) {
    if (extra.length % 2 != 0) {
      throw new IllegalArgumentException("extra headers come in pairs of a name and a value");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    switch (method) {
      case "GET" -> indexed(out, 2);
      case "POST" -> indexed(out, 3);
      default -> literal(out, 2, method);
    }
    switch (scheme) {
      case "http" -> indexed(out, 6);
      case "https" -> indexed(out, 7);
      default -> literal(out, 6, scheme);
    }
    literal(out, 1, authority);
    if (path.equals("/")) {
      indexed(out, 4);
    } else {
      literal(out, 4, path);
    }
    for (int i = 0; i < extra.length; i += 2) {
      literal(out, extra[i].toLowerCase(Locale.ROOT), extra[i + 1]);
    }
    return out.toByteArray();
  }

  /** A field from the static table, by index (RFC 7541, appendix A). */
  public static void indexed(ByteArrayOutputStream out, int index) {
    integer(out, 0x80, 7, index);
  }

  /** A literal field without indexing whose name is the static table's entry {@code nameIndex}. */
  public static void literal(ByteArrayOutputStream out, int nameIndex, String value) {
    integer(out, 0x00, 4, nameIndex);
    string(out, value);
  }

  /** A literal field without indexing, with a literal name. */
  public static void literal(ByteArrayOutputStream out, String name, String value) {
    out.write(0x00);
    string(out, name);
    string(out, value);
  }

  private static void string(ByteArrayOutputStream out, String s) {
    byte[] b = s.getBytes(ISO_8859_1);
    integer(out, 0x00, 7, b.length);
    out.writeBytes(b);
  }

  private static void integer(ByteArrayOutputStream out, int firstBits, int prefixBits, int value) {
    int max = (1 << prefixBits) - 1;
    if (value < max) {
      out.write(firstBits | value);
      return;
    }
    out.write(firstBits | max);
    int rest = value - max;
    while (rest >= 0x80) {
      out.write((rest & 0x7f) | 0x80);
      rest >>>= 7;
    }
    out.write(rest);
  }

  // ---- reading frames ----

  /** A frame read back. */
  public record Frame(int type, int flags, int streamId, byte[] payload) {
    public boolean is(int frameType) {
      return type == frameType;
    }

    public boolean hasFlags(int mask) {
      return (flags & mask) == mask;
    }

    /** The error code of a GOAWAY or RST_STREAM frame. */
    public long errorCode() {
      return switch (type) {
        case GOAWAY -> Integer.toUnsignedLong(ByteBuffer.wrap(payload, 4, 4).getInt());
        case RST_STREAM -> Integer.toUnsignedLong(ByteBuffer.wrap(payload).getInt());
        default -> throw new IllegalStateException("no error code in " + this);
      };
    }

    /** The last stream id of a GOAWAY frame. */
    public int lastStreamId() {
      requireType(GOAWAY);
      return ByteBuffer.wrap(payload).getInt() & 0x7fff_ffff;
    }

    /** The debug data of a GOAWAY frame, as UTF-8. */
    public String debugData() {
      requireType(GOAWAY);
      return new String(payload, 8, payload.length - 8, UTF_8);
    }

    /** The increment of a WINDOW_UPDATE frame. */
    public int windowIncrement() {
      requireType(WINDOW_UPDATE);
      return ByteBuffer.wrap(payload).getInt() & 0x7fff_ffff;
    }

    /** The opaque data of a PING frame. */
    public long pingData() {
      requireType(PING);
      return ByteBuffer.wrap(payload).getLong();
    }

    /** The settings of a SETTINGS frame, by id, in order. */
    public Map<Integer, Long> settings() {
      requireType(SETTINGS);
      Map<Integer, Long> s = new LinkedHashMap<>();
      ByteBuffer b = ByteBuffer.wrap(payload);
      while (b.remaining() >= 6) {
        s.put(b.getShort() & 0xffff, Integer.toUnsignedLong(b.getInt()));
      }
      return s;
    }

    private void requireType(int expected) {
      if (type != expected) {
        throw new IllegalStateException("not a frame of type " + expected + ": " + this);
      }
    }

    /** The frame's bytes as sent. */
    public byte[] bytes() {
      return frame(type, flags, streamId, payload);
    }

    @Override
    public String toString() {
      String what = switch (type) {
        case GOAWAY -> " last=" + lastStreamId() + " error=" + errorCode() + " \"" + debugData() + "\"";
        case RST_STREAM -> " error=" + errorCode();
        case SETTINGS -> " " + settings();
        case WINDOW_UPDATE -> " +" + windowIncrement();
        default -> payload.length <= 32 ? " " + HexFormat.of().formatHex(payload) : " " + payload.length + " bytes";
      };
      return "Frame{" + name(type) + " flags=0x" + Integer.toHexString(flags) + " stream=" + streamId + what + "}";
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Frame f && f.type == type && f.flags == flags && f.streamId == streamId
          && Arrays.equals(f.payload, payload);
    }

    @Override
    public int hashCode() {
      return ((type * 31 + flags) * 31 + streamId) * 31 + Arrays.hashCode(payload);
    }
  }

  public static String name(int type) {
    return switch (type) {
      case DATA -> "DATA";
      case HEADERS -> "HEADERS";
      case PRIORITY -> "PRIORITY";
      case RST_STREAM -> "RST_STREAM";
      case SETTINGS -> "SETTINGS";
      case PUSH_PROMISE -> "PUSH_PROMISE";
      case PING -> "PING";
      case GOAWAY -> "GOAWAY";
      case WINDOW_UPDATE -> "WINDOW_UPDATE";
      case CONTINUATION -> "CONTINUATION";
      default -> "UNKNOWN(0x" + Integer.toHexString(type) + ")";
    };
  }

  /** Frames from a stream of bytes that may arrive in pieces: keeps an incomplete frame until the rest comes. */
  public static final class Reader {
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    /** The frames completed by {@code bytes}. */
    public List<Frame> read(byte[] bytes) {
      pending.writeBytes(bytes);
      byte[] all = pending.toByteArray();
      List<Frame> frames = new ArrayList<>();
      int at = 0;
      while (all.length - at >= FRAME_HEADER_LENGTH) {
        int length = ((all[at] & 0xff) << 16) | ((all[at + 1] & 0xff) << 8) | (all[at + 2] & 0xff);
        if (all.length - at - FRAME_HEADER_LENGTH < length) {
          break;
        }
        int streamId = ByteBuffer.wrap(all, at + 5, 4).getInt() & 0x7fff_ffff;
        frames.add(new Frame(all[at + 3] & 0xff, all[at + 4] & 0xff, streamId,
            Arrays.copyOfRange(all, at + FRAME_HEADER_LENGTH, at + FRAME_HEADER_LENGTH + length)));
        at += FRAME_HEADER_LENGTH + length;
      }
      pending.reset();
      pending.write(all, at, all.length - at);
      return frames;
    }

    /** The frames completed by what {@code ch} wrote (its buffers released). */
    public List<Frame> readOutbound(EmbeddedChannel ch) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (Object m; (m = ch.readOutbound()) != null; ) {
        ByteBuf b = (ByteBuf) m;
        try {
          byte[] bytes = new byte[b.readableBytes()];
          b.readBytes(bytes);
          out.writeBytes(bytes);
        } finally {
          b.release();
        }
      }
      return read(out.toByteArray());
    }

    /** Bytes of a frame begun but not complete. */
    public int pendingBytes() {
      return pending.size();
    }
  }

  /** Whole frames from {@code bytes}; fails on a frame cut short. */
  public static List<Frame> parse(byte[] bytes) {
    Reader r = new Reader();
    List<Frame> frames = r.read(bytes);
    if (r.pendingBytes() != 0) {
      throw new IllegalArgumentException(r.pendingBytes() + " bytes of an incomplete frame");
    }
    return frames;
  }

  /**
   * The header lists the server sent, by stream, in the order sent (a stream's response headers, then trailers):
   * decodes every header block of {@code frames} in order, as the HPACK dynamic table requires.
   */
  public static Map<Integer, List<Http2Headers>> headerLists(List<Frame> frames) {
    DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false, Long.MAX_VALUE / 2);
    Map<Integer, List<Http2Headers>> lists = new LinkedHashMap<>();
    ByteArrayOutputStream block = new ByteArrayOutputStream();
    int blockStream = 0;
    for (Frame f : frames) {
      if (f.is(HEADERS) || f.is(PUSH_PROMISE)) {
        block.reset();
        blockStream = f.streamId();
        block.writeBytes(fragment(f));
      } else if (f.is(CONTINUATION)) {
        block.writeBytes(f.payload());
      } else {
        continue;
      }
      if (f.hasFlags(END_HEADERS)) {
        ByteBuf b = Unpooled.wrappedBuffer(block.toByteArray());
        try {
          lists.computeIfAbsent(blockStream, k -> new ArrayList<>()).add(decoder.decodeHeaders(blockStream, b));
        } catch (Http2Exception e) {
          throw new IllegalArgumentException("undecodable header block on stream " + blockStream, e);
        } finally {
          b.release();
        }
      }
    }
    return lists;
  }

  /** The header block fragment of a HEADERS or PUSH_PROMISE frame, without padding, priority or promised id. */
  private static byte[] fragment(Frame f) {
    byte[] p = f.payload();
    int start = 0;
    int end = p.length;
    if (f.hasFlags(PADDED)) {
      end -= p[0] & 0xff;
      start = 1;
    }
    if (f.is(HEADERS) && f.hasFlags(PRIORITY_FLAG)) {
      start += 5;
    }
    if (f.is(PUSH_PROMISE)) {
      start += 4;
    }
    return Arrays.copyOfRange(p, start, end);
  }

  // ---- a blocking client ----

  /** A connection over a plain socket, connected within {@code timeout}, which is also the read timeout. */
  public static Client connect(String host, int port, Duration timeout) throws IOException {
    Socket s = new Socket();
    try {
      s.setTcpNoDelay(true);
      s.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
      return new Client(s, null);
    } catch (IOException e) {
      s.close();
      throw e;
    }
  }

  /**
   * A connection over TLS offering ALPN {@code h2} only, with {@code host} as SNI and verified against the trust of
   * {@code context}; see {@link Client#applicationProtocol()} for what was agreed.
   */
  public static Client connectTls(String host, int port, SSLContext context, Duration timeout) throws IOException {
    Socket plain = new Socket();
    try {
      plain.setTcpNoDelay(true);
      plain.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
      plain.setSoTimeout((int) timeout.toMillis());
      SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(plain, host, port, true);
      SSLParameters p = s.getSSLParameters();
      p.setApplicationProtocols(new String[] {"h2"});
      p.setEndpointIdentificationAlgorithm("HTTPS");
      s.setSSLParameters(p);
      s.startHandshake();
      return new Client(s, s.getApplicationProtocol());
    } catch (IOException e) {
      plain.close();
      throw e;
    }
  }

  /** What a connection saw. */
  public record Result(List<Frame> frames, int written, boolean eof, @Nullable IOException readError) {
    /** The first GOAWAY the server sent. */
    public Optional<Frame> goAway() {
      return frames.stream().filter(f -> f.is(GOAWAY)).findFirst();
    }

    public List<Frame> ofType(int type) {
      return frames.stream().filter(f -> f.is(type)).toList();
    }

    /** The connection ended: by end of stream, or by a reset or other error while reading. */
    public boolean closed() {
      return eof || readError != null;
    }
  }

  /**
   * A client connection: frames are written on the caller's thread, and read by a thread of its own until the
   * server closes the connection. Writing stops (and {@link #write} returns false) once a GOAWAY came or a write
   * failed, so {@link #written()} is the count of frames written before the server had its say.
   */
  public static final class Client implements AutoCloseable {
    private final Socket socket;
    private final @Nullable String applicationProtocol;
    private final OutputStream out;
    private final Thread reader;
    private final List<Frame> frames = new ArrayList<>();
    private int written;
    private boolean writeFailed;
    private boolean goAway;
    private boolean eof;
    private @Nullable IOException readError;
    private boolean done;

    private Client(Socket socket, @Nullable String applicationProtocol) throws IOException {
      this.socket = socket;
      this.applicationProtocol = applicationProtocol;
      this.out = socket.getOutputStream();
      socket.setSoTimeout(0);
      InputStream in = socket.getInputStream();
      this.reader = new Thread(() -> readLoop(in), "h2frames-reader");
      reader.setDaemon(true);
      reader.start();
    }

    /** The protocol agreed by ALPN ({@code h2} when the server speaks it), or null over a plain socket. */
    public @Nullable String applicationProtocol() {
      return applicationProtocol;
    }

    /** Writes bytes that are not counted as frames, such as the preface. */
    public void writeRaw(byte[] bytes) throws IOException {
      out.write(bytes);
      out.flush();
    }

    /**
     * Writes {@code frame} (counted as one frame, whatever it holds) unless the server sent GOAWAY or a write failed
     * already; true when written.
     */
    public boolean write(byte[] frame) {
      synchronized (this) {
        if (goAway || writeFailed) {
          return false;
        }
      }
      try {
        out.write(frame);
        out.flush();
      } catch (IOException e) {
        synchronized (this) {
          writeFailed = true;
        }
        return false;
      }
      synchronized (this) {
        written++;
      }
      return true;
    }

    /** Writes each of {@code frames} in turn until one cannot be; the count written. */
    public int writeAll(List<byte[]> frames) {
      int n = 0;
      for (byte[] f : frames) {
        if (!write(f)) {
          break;
        }
        n++;
      }
      return n;
    }

    public synchronized int written() {
      return written;
    }

    /** The frames read so far. */
    public synchronized List<Frame> frames() {
      return List.copyOf(frames);
    }

    /** Waits until {@code predicate} holds for the frames read, the connection ends, or {@code timeout} passes. */
    public synchronized List<Frame> awaitFrames(java.util.function.Predicate<List<Frame>> predicate, Duration timeout)
        throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!predicate.test(frames) && !done) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      return List.copyOf(frames);
    }

    /** Waits for a GOAWAY or the end of the connection, at most {@code timeout}; what was seen by then. */
    public Result awaitGoAwayOrEof(Duration timeout) throws InterruptedException {
      synchronized (this) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!goAway && !done) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            break;
          }
          TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return result();
      }
    }

    /** Waits for the server to close the connection, at most {@code timeout}; what was seen by then. */
    public Result awaitEof(Duration timeout) throws InterruptedException {
      synchronized (this) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            break;
          }
          TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return result();
      }
    }

    private Result result() {
      return new Result(List.copyOf(frames), written, eof, readError);
    }

    private void readLoop(InputStream raw) {
      DataInputStream in = new DataInputStream(raw);
      byte[] header = new byte[FRAME_HEADER_LENGTH];
      try {
        while (true) {
          try {
            in.readFully(header);
          } catch (EOFException e) {
            synchronized (this) {
              eof = true;
            }
            return;
          }
          int length = ((header[0] & 0xff) << 16) | ((header[1] & 0xff) << 8) | (header[2] & 0xff);
          byte[] payload = new byte[length];
          in.readFully(payload);
          Frame f = new Frame(header[3] & 0xff, header[4] & 0xff,
              ByteBuffer.wrap(header, 5, 4).getInt() & 0x7fff_ffff, payload);
          synchronized (this) {
            frames.add(f);
            goAway |= f.is(GOAWAY);
            notifyAll();
          }
        }
      } catch (IOException e) {
        synchronized (this) {
          if (!socket.isClosed()) {
            readError = e;
          }
        }
      } finally {
        synchronized (this) {
          done = true;
          notifyAll();
        }
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
      try {
        reader.join(TimeUnit.SECONDS.toMillis(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
