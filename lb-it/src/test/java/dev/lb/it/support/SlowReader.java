package dev.lb.it.support;

import java.io.IOException;
import java.time.Duration;

/**
 * Downloads a response of any size while hashing it, optionally reading at a limited rate so that the server (or a
 * proxy in between) must hold back rather than buffer. A throttled download uses a small socket receive buffer, so the
 * slowness reaches the sender quickly instead of being absorbed by the kernel.
 */
public final class SlowReader {
  /** Socket receive buffer for throttled downloads. */
  static final int SMALL_RECEIVE_BUFFER = 64 * 1024;

  private SlowReader() {}

  /** {@code GET target} on a new connection to {@code 127.0.0.1:port}, read as fast as possible. */
  public static Transfer download(int port, String target) throws IOException {
    return download(port, target, Throttle.NONE);
  }

  /** {@code GET target} on a new connection to {@code 127.0.0.1:port}, read at the pace of {@code throttle}. */
  public static Transfer download(int port, String target, Throttle throttle) throws IOException {
    long start = System.nanoTime();
    int receiveBuffer = throttle.isLimited() ? SMALL_RECEIVE_BUFFER : 0;
    try (RawHttpClient client = RawHttpClient.connect("127.0.0.1", port, receiveBuffer)) {
      return download(client, target, throttle, start);
    }
  }

  /** {@code GET target} on an open connection, which stays open for more requests if the server keeps it. */
  public static Transfer download(RawHttpClient client, String target, Throttle throttle) throws IOException {
    return download(client, target, throttle, System.nanoTime());
  }

  private static Transfer download(RawHttpClient client, String target, Throttle throttle, long start)
      throws IOException {
    client.get(target);
    ResponseHead head = client.readHead(false);
    BodySink body = BodySink.drain(client.body(head), throttle);
    return new Transfer(head, body, 0, Duration.ofNanos(System.nanoTime() - start), null);
  }
}
