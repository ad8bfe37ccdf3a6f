package dev.lb.it;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A backend that accepts connections, reads each request head whole, and then drops the connection without answering:
 * with a FIN, or with a RST. Unlike {@link dev.lb.it.support.TestBackend}'s {@code /close} and {@code /reset} routes it
 * does so for every path, so that it can sit among healthy backends that answer the same request.
 */
final class DroppingBackend implements AutoCloseable {
  private final ServerSocket server;
  private final boolean reset;
  private final AtomicLong heads = new AtomicLong();
  private final Thread acceptor;

  private DroppingBackend(boolean reset) throws IOException {
    this.reset = reset;
    this.server = new ServerSocket();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    this.acceptor = new Thread(this::acceptLoop, "dropping-backend-" + server.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Closes each connection (FIN) after the request head, or resets it (RST) when {@code reset}. */
  static DroppingBackend start(boolean reset) throws IOException {
    return new DroppingBackend(reset);
  }

  String url() {
    return "http://127.0.0.1:" + server.getLocalPort();
  }

  /** Request heads read whole (and then dropped). */
  long requestHeads() {
    return heads.get();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try (Socket socket = server.accept()) {
        if (readHead(socket.getInputStream())) {
          heads.incrementAndGet();
          if (reset) {
            socket.setSoLinger(true, 0);
          }
        }
      } catch (IOException e) {
        // Closed listener, or a peer that went away: next.
      }
    }
  }

  /** Reads up to the blank line that ends a head; false if the connection ended first. */
  private static boolean readHead(InputStream in) throws IOException {
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    for (int b; (b = in.read()) >= 0; ) {
      matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
      if (matched == end.length) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void close() throws IOException {
    server.close();
    try {
      acceptor.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
