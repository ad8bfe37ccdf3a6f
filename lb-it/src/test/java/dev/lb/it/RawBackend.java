package dev.lb.it;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A backend that misbehaves the same way for every path, so that it can sit among healthy backends that answer the
 * same request (unlike {@link dev.lb.it.support.TestBackend}'s {@code /close} and {@code /reset} routes). For each
 * connection it reads one request head, writes fixed bytes (possibly none), and ends the connection with a FIN, or
 * with a RST. Connections are served side by side, each on a thread of its own, so one that the balancer opened and
 * left idle (a pooled connection nobody used yet) does not hold up the others.
 */
final class RawBackend implements AutoCloseable {
  private final ServerSocket server;
  private final byte[] reply;
  private final boolean reset;
  private final AtomicLong heads = new AtomicLong();
  private final Thread acceptor;

  private RawBackend(byte[] reply, boolean reset) throws IOException {
    this.reply = reply;
    this.reset = reset;
    this.server = new ServerSocket();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    this.acceptor = new Thread(this::acceptLoop, "raw-backend-" + server.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Drops each connection without answering: closes it (FIN) after the request head, or resets it when {@code reset}. */
  static RawBackend dropping(boolean reset) throws IOException {
    return new RawBackend(new byte[0], reset);
  }

  /** Answers each request head with {@code reply} as it is (write {@code \r\n} yourself), then closes. */
  static RawBackend answering(String reply) throws IOException {
    return new RawBackend(reply.getBytes(StandardCharsets.ISO_8859_1), false);
  }

  String url() {
    return "http://127.0.0.1:" + server.getLocalPort();
  }

  /** Request heads read whole. */
  long requestHeads() {
    return heads.get();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        Thread t = new Thread(() -> serve(socket), "raw-backend-conn-" + server.getLocalPort());
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        // Closed listener: the loop ends.
      }
    }
  }

  private void serve(Socket accepted) {
    try (Socket socket = accepted) {
      if (readHead(socket.getInputStream())) {
        heads.incrementAndGet();
        socket.getOutputStream().write(reply);
        socket.getOutputStream().flush();
        if (reset) {
          socket.setSoLinger(true, 0);
        }
      }
    } catch (IOException e) {
      // A peer that went away.
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
