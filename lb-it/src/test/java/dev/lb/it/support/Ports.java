package dev.lb.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Loopback TCP ports for tests. */
public final class Ports {
  private Ports() {}

  /**
   * A loopback port that was free a moment ago: bound to port 0, read back, and released. Another process may take it
   * before the caller binds it, so prefer binding port 0 yourself where the code under test allows it.
   */
  public static int freePort() {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free loopback port", e);
    }
  }

  /**
   * A loopback port on which nothing listens, so that a connection to it is refused: one that was just bound and
   * closed. The same race as {@link #freePort()} applies, but nothing in a test run binds fixed ports.
   */
  public static int refusedPort() {
    return freePort();
  }
}
