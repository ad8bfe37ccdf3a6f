package dev.lb.server.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay in front of the test Redis that can stop passing bytes on, for this test's connections only: a Redis
 * that stops answering without pausing the shared server for every other build on the machine (as CLIENT PAUSE would).
 */
final class StallingProxy implements AutoCloseable {
  private final ServerSocket server;
  private final String host;
  private final int port;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile boolean stalled;

  StallingProxy(String redisUrl) throws IOException {
    URI uri = URI.create(redisUrl);
    this.host = uri.getHost();
    this.port = uri.getPort() < 0 ? 6379 : uri.getPort();
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "stalling-proxy");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** The URL that reaches Redis through this relay. */
  String url() {
    return "redis://127.0.0.1:" + server.getLocalPort();
  }

  /** While stalled, what either side sends is held back (and passed on once it is not). */
  void stall(boolean value) {
    stalled = value;
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Socket upstream = new Socket(host, port);
        sockets.add(client);
        sockets.add(upstream);
        pump(client, upstream);
        pump(upstream, client);
      } catch (IOException closed) {
        return;
      }
    }
  }

  private void pump(Socket from, Socket to) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[8192];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        for (int n; (n = in.read(buf)) > 0; ) {
          while (stalled) {
            Thread.sleep(5);
          }
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException | InterruptedException e) {
        // A side closed: so does the relay.
      } finally {
        close(from);
        close(to);
      }
    }, "stalling-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private static void close(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  @Override
  public void close() throws IOException {
    stalled = false;
    server.close();
    for (Socket s : sockets) {
      close(s);
    }
  }
}
