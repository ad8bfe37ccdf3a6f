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
   * A loopback port on which nothing listens, so that a connection to it is refused. It is taken below the kernel's
   * ephemeral range (Linux: 32768-60999), where a listener bound to port 0 (every test backend, lb's own listeners)
   * or an outgoing connection never lands: a port freed from that range could be handed to lb's admin listener a
   * moment later, and the "refused" backend would answer 404. Nothing in a test run binds fixed ports here.
   */
  public static int refusedPort() {
    java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
    for (int i = 0; i < 100; i++) {
      int port = random.nextInt(20_000, 32_000);
      try (java.net.Socket probe = new java.net.Socket()) {
        probe.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
      } catch (java.net.ConnectException refused) {
        return port;
      } catch (IOException other) {
        // Anything but a refusal (a timeout): try another port.
      }
    }
    throw new IllegalStateException("no refusing loopback port found below the ephemeral range");
  }
}
