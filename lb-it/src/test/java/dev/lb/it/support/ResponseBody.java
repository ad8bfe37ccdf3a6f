package dev.lb.it.support;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ProtocolException;

/**
 * A response body as a stream, from {@link RawHttpClient#body(ResponseHead)}, with its framing (Content-Length, chunked, or until close) removed. End of stream
 * means the body is complete; a connection that ends early is an {@link EOFException}. Closing it does not close the
 * connection, and it does not drain the rest of the body.
 */
public final class ResponseBody extends InputStream {
  private final HttpInput in;
  private final ResponseHead.Framing framing;
  private long remaining;
  private boolean chunkedDone;
  private RawHeaders trailers = RawHeaders.empty();
  private long read;

  ResponseBody(HttpInput in, ResponseHead head) {
    this.in = in;
    this.framing = head.framing();
    this.remaining = head.framing() == ResponseHead.Framing.CONTENT_LENGTH ? head.contentLength() : 0;
  }

  /** Trailer fields of a chunked body, known once the stream has ended. */
  public RawHeaders trailers() {
    return trailers;
  }

  /** Body bytes read so far. */
  public long bytesRead() {
    return read;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] dst, int offset, int length) throws IOException {
    int n;
    switch (framing) {
      case NONE:
        return -1;
      case CLOSE:
        n = in.read(dst, offset, length);
        break;
      case CONTENT_LENGTH:
        n = readBounded(dst, offset, length);
        break;
      case CHUNKED:
        n = readChunked(dst, offset, length);
        break;
      default:
        throw new IllegalStateException(framing.toString());
    }
    if (n > 0) {
      read += n;
    }
    return n;
  }

  private int readBounded(byte[] dst, int offset, int length) throws IOException {
    if (remaining == 0) {
      return -1;
    }
    int n = in.read(dst, offset, (int) Math.min(length, remaining));
    if (n < 0) {
      throw new EOFException("connection closed after " + read + " body bytes, " + remaining + " missing");
    }
    remaining -= n;
    return n;
  }

  private int readChunked(byte[] dst, int offset, int length) throws IOException {
    if (chunkedDone) {
      return -1;
    }
    if (remaining == 0) {
      remaining = chunkSize(in.readLine());
      if (remaining == 0) {
        trailers = in.readFields();
        chunkedDone = true;
        return -1;
      }
    }
    int n = in.read(dst, offset, (int) Math.min(length, remaining));
    if (n < 0) {
      throw new EOFException("connection closed inside a chunk after " + read + " body bytes");
    }
    remaining -= n;
    if (remaining == 0 && !in.readLine().isEmpty()) {
      throw new ProtocolException("chunk data not followed by CRLF");
    }
    return n;
  }

  private static long chunkSize(String line) throws ProtocolException {
    int end = line.indexOf(';');
    String hex = (end < 0 ? line : line.substring(0, end)).trim();
    try {
      long size = Long.parseLong(hex, 16);
      if (size < 0) {
        throw new NumberFormatException();
      }
      return size;
    } catch (NumberFormatException e) {
      throw new ProtocolException("bad chunk size line: " + line);
    }
  }
}
