package dev.lb.server.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A bare HTTP/1.x client over one socket, for what {@link java.net.http.HttpClient} will not do: HTTP/1.0, {@code
 * Expect} and {@code Connection} headers written by hand, and watching the connection close.
 */
public final class RawHttp implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  public RawHttp(InetSocketAddress address) throws IOException {
    socket = new Socket(address.getAddress(), address.getPort());
    socket.setSoTimeout(5_000);
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  /** Writes text as it is (use {@code \r\n}). */
  public RawHttp send(String text) throws IOException {
    return send(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  public RawHttp send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
    return this;
  }

  /** Reads one response: head, then a body of Content-Length bytes (none if absent). */
  public Response read() throws IOException {
    String head = readHead();
    String[] lines = head.split("\r\n");
    int status = Integer.parseInt(lines[0].split(" ")[1]);
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
    }
    int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
    byte[] body = in.readNBytes(length);
    if (body.length != length) {
      throw new IOException("body cut short: " + body.length + " of " + length + " bytes");
    }
    return new Response(lines[0], status, headers, new String(body, StandardCharsets.UTF_8));
  }

  /** Whether the server closed the connection: the next read sees end of stream (or a reset). */
  public boolean closedByPeer() throws IOException {
    try {
      return in.read() == -1;
    } catch (java.net.SocketException e) {
      return true;
    }
  }

  private String readHead() throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int last4 = 0;
    while (last4 != 0x0d0a0d0a) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("connection closed in a response head: " + head);
      }
      head.write(b);
      last4 = last4 << 8 | b;
    }
    String text = head.toString(StandardCharsets.ISO_8859_1);
    return text.substring(0, text.length() - 4);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  /** One response as read. */
  public record Response(String statusLine, int status, Map<String, String> headers, String body) {
    public @Nullable String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }
}
