package dev.lb.it.support;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ProtocolException;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The buffered read side of a {@link RawHttpClient} connection: lines for heads and chunk sizes, raw bytes for bodies,
 * and a way to peek for end of stream without losing data.
 */
final class HttpInput {
  private static final int MAX_LINE = 64 * 1024;

  private final InputStream in;
  private final byte[] buffer = new byte[64 * 1024];
  private int position;
  private int limit;

  HttpInput(InputStream in) {
    this.in = in;
  }

  /** Bytes read from the socket and not consumed yet. */
  int buffered() {
    return limit - position;
  }

  /** Reads more from the socket into the buffer; false at end of stream. Only call when nothing is buffered. */
  boolean fill() throws IOException {
    int n = in.read(buffer, 0, buffer.length);
    if (n < 0) {
      return false;
    }
    position = 0;
    limit = n;
    return true;
  }

  /** Up to {@code length} bytes, from the buffer first; -1 at end of stream. */
  int read(byte[] dst, int offset, int length) throws IOException {
    if (length == 0) {
      return 0;
    }
    if (buffered() == 0) {
      if (length >= buffer.length) {
        return in.read(dst, offset, length);
      }
      if (!fill()) {
        return -1;
      }
    }
    int n = Math.min(length, buffered());
    System.arraycopy(buffer, position, dst, offset, n);
    position += n;
    return n;
  }

  /**
   * One line without its CRLF (a bare LF ends it too), decoded as ISO-8859-1.
   *
   * @throws EOFException if the stream ends first
   */
  String readLine() throws IOException {
    StringBuilder line = new StringBuilder();
    while (true) {
      if (buffered() == 0 && !fill()) {
        throw new EOFException(
            line.length() == 0 ? "connection closed by peer" : "connection closed mid-line: " + line);
      }
      while (position < limit) {
        char c = (char) (buffer[position++] & 0xff);
        if (c == '\n') {
          int end = line.length();
          if (end > 0 && line.charAt(end - 1) == '\r') {
            line.setLength(end - 1);
          }
          return line.toString();
        }
        if (line.length() >= MAX_LINE) {
          throw new ProtocolException("line longer than " + MAX_LINE + " bytes");
        }
        line.append(c);
      }
    }
  }

  /** Header fields up to the empty line that ends them; obs-fold continuation lines join the previous field. */
  RawHeaders readFields() throws IOException {
    List<Map.Entry<String, String>> fields = new ArrayList<>();
    for (String line = readLine(); !line.isEmpty(); line = readLine()) {
      char first = line.charAt(0);
      if ((first == ' ' || first == '\t') && !fields.isEmpty()) {
        Map.Entry<String, String> previous = fields.remove(fields.size() - 1);
        fields.add(new AbstractMap.SimpleImmutableEntry<>(
            previous.getKey(), previous.getValue() + ' ' + line.trim()));
        continue;
      }
      int colon = line.indexOf(':');
      if (colon <= 0) {
        throw new ProtocolException("malformed header line: " + line);
      }
      fields.add(new AbstractMap.SimpleImmutableEntry<>(
          line.substring(0, colon), line.substring(colon + 1).trim()));
    }
    return new RawHeaders(fields);
  }
}
