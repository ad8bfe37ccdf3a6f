package dev.lb.it.support;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A blocking HTTP/1.x client over one plain socket, for what {@code java.net.http} cannot do: send any bytes at all
 * (malformed, pipelined, slow, partial), see responses exactly as they came (interim {@code 100 Continue}, framing,
 * duplicate headers), and tell whether the server closed the connection.
 *
 * <p>Reads wait at most {@link #timeout()} for each piece of data and then throw {@link SocketTimeoutException}. A
 * connection closed by the peer before a response is complete is an {@link java.io.EOFException}; a reset is a
 * {@link SocketException}. Not thread-safe, except that one thread may send while another reads.
 */
public final class RawHttpClient implements AutoCloseable {
  /** The read timeout a new client starts with. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  private final Socket socket;
  private final HttpInput input;
  private final OutputStream output;
  private volatile Duration timeout = DEFAULT_TIMEOUT;

  private RawHttpClient(Socket socket) throws IOException {
    this.socket = socket;
    this.input = new HttpInput(socket.getInputStream());
    this.output = socket.getOutputStream();
  }

  /** Connects to {@code 127.0.0.1:port}. */
  public static RawHttpClient connect(int port) throws IOException {
    return connect("127.0.0.1", port, 0);
  }

  public static RawHttpClient connect(String host, int port) throws IOException {
    return connect(host, port, 0);
  }

  /**
   * Connects with a given socket receive buffer, so that a client that reads slowly really holds data back
   * ({@code 0} keeps the system default, which grows to megabytes).
   */
  public static RawHttpClient connect(String host, int port, int receiveBufferBytes) throws IOException {
    Socket socket = new Socket();
    try {
      if (receiveBufferBytes > 0) {
        socket.setReceiveBufferSize(receiveBufferBytes);
      }
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(host, port), (int) DEFAULT_TIMEOUT.toMillis());
      return new RawHttpClient(socket);
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  /** Sets the longest wait for data in each read. */
  public RawHttpClient timeout(Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout " + timeout + " (expected: positive)");
    }
    this.timeout = timeout;
    return this;
  }

  public Duration timeout() {
    return timeout;
  }

  /** Sends {@code text} encoded as UTF-8, as it is: write {@code \r\n} yourself. */
  public RawHttpClient send(String text) throws IOException {
    return send(text.getBytes(StandardCharsets.UTF_8));
  }

  /** Sends {@code bytes} and flushes. */
  public RawHttpClient send(byte[] bytes) throws IOException {
    output.write(bytes);
    output.flush();
    return this;
  }

  /** Sends {@code GET target HTTP/1.1} with a Host header and nothing else. */
  public RawHttpClient get(String target) throws IOException {
    return send("GET " + target + " HTTP/1.1\r\nHost: " + hostHeader() + "\r\n\r\n");
  }

  /** The next response, interim ones such as {@code 100 Continue} included, with its whole body. */
  public RawResponse readResponse() throws IOException {
    return readResponse(false);
  }

  /** {@link #readResponse()} with another read timeout for this call. */
  public RawResponse readResponse(Duration timeout) throws IOException {
    Duration before = this.timeout;
    timeout(timeout);
    try {
      return readResponse();
    } finally {
      this.timeout = before;
    }
  }

  /** The next response to a HEAD request: such a response has no body whatever its headers say. */
  public RawResponse readResponseToHead() throws IOException {
    return readResponse(true);
  }

  /** The next {@code n} responses, for pipelined requests (none of them HEAD). */
  public List<RawResponse> readResponses(int n) throws IOException {
    List<RawResponse> responses = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      responses.add(readResponse());
    }
    return responses;
  }

  /**
   * Only the status line and headers of the next response; read its body from {@link #body(ResponseHead)} before
   * the next response.
   */
  public ResponseHead readHead(boolean toHeadRequest) throws IOException {
    socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
    String statusLine = input.readLine();
    if (!statusLine.startsWith("HTTP/") || statusLine.length() < 12 || statusLine.charAt(8) != ' ') {
      throw new ProtocolException("not an HTTP/1.x status line: " + statusLine);
    }
    int status;
    try {
      status = Integer.parseInt(statusLine.substring(9, 12));
    } catch (NumberFormatException e) {
      throw new ProtocolException("bad status code: " + statusLine);
    }
    String reason = statusLine.length() > 13 ? statusLine.substring(13) : "";
    RawHeaders headers = input.readFields();
    return framed(statusLine.substring(0, 8), status, reason, headers, toHeadRequest);
  }

  /** The body of the response whose head was just read, as a stream that ends where the body ends. */
  public ResponseBody body(ResponseHead head) {
    return new ResponseBody(input, head);
  }

  /**
   * Whether the server closed (or reset) the connection, waiting up to {@code timeout} for it. Data that arrives
   * instead is kept for the next read, and the answer is false.
   */
  public boolean isClosedByPeer(Duration timeout) throws IOException {
    if (input.buffered() > 0) {
      return false;
    }
    socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
    try {
      return !input.fill();
    } catch (SocketTimeoutException e) {
      return false;
    } catch (SocketException e) {
      return true;
    }
  }

  /** Half-closes: sends FIN, keeps reading. */
  public void shutdownOutput() throws IOException {
    socket.shutdownOutput();
  }

  /** Closes with a RST instead of a FIN, as a client that aborts does. */
  public void abort() throws IOException {
    socket.setSoLinger(true, 0);
    socket.close();
  }

  /** The socket, for options and addresses. */
  public Socket socket() {
    return socket;
  }

  /** The raw output, for writing a body piece by piece; flush it yourself. */
  public OutputStream output() {
    return output;
  }

  /** The client's own port, as the server sees it. */
  public int localPort() {
    return socket.getLocalPort();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  private RawResponse readResponse(boolean toHeadRequest) throws IOException {
    ResponseHead head = readHead(toHeadRequest);
    ResponseBody body = body(head);
    byte[] bytes = body.readAllBytes();
    return new RawResponse(head, bytes, body.trailers());
  }

  private String hostHeader() {
    return "127.0.0.1:" + socket.getPort();
  }

  private static ResponseHead framed(
      String version, int status, String reason, RawHeaders headers, boolean toHeadRequest) throws IOException {
    if (toHeadRequest || status < 200 || status == 204 || status == 304) {
      return new ResponseHead(version, status, reason, headers, ResponseHead.Framing.NONE, -1);
    }
    List<String> codings = headers.getAll("transfer-encoding");
    if (!codings.isEmpty()) {
      String all = String.join(",", codings).toLowerCase(Locale.ROOT);
      boolean chunkedLast = all.substring(all.lastIndexOf(',') + 1).trim().equals("chunked");
      ResponseHead.Framing framing = chunkedLast ? ResponseHead.Framing.CHUNKED : ResponseHead.Framing.CLOSE;
      return new ResponseHead(version, status, reason, headers, framing, -1);
    }
    List<String> lengths = headers.getAll("content-length");
    if (!lengths.isEmpty()) {
      long length = contentLength(lengths);
      return new ResponseHead(version, status, reason, headers, ResponseHead.Framing.CONTENT_LENGTH, length);
    }
    return new ResponseHead(version, status, reason, headers, ResponseHead.Framing.CLOSE, -1);
  }

  private static long contentLength(List<String> values) throws ProtocolException {
    long length = -1;
    for (String value : values) {
      for (String part : value.split(",")) {
        long n;
        try {
          n = Long.parseLong(part.trim());
        } catch (NumberFormatException e) {
          throw new ProtocolException("bad Content-Length: " + values);
        }
        if (n < 0 || (length >= 0 && n != length)) {
          throw new ProtocolException("bad Content-Length: " + values);
        }
        length = n;
      }
    }
    return length;
  }
}
