package dev.lb.it.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A raw TCP backend whose behaviour is scripted per connection, for faults a real HTTP server does not commit: write
 * these bytes, reset (SO_LINGER 0), close, stall, drip a byte at a time, send more than Content-Length, conflicting
 * framing, garbage.
 *
 * <p>Connection {@code i} (counted from 0 in accept order) runs {@code scripts[min(i, scripts.length - 1)]}. A script
 * that ends without closing or resetting <em>holds</em> its connection: it keeps reading, counts any further request
 * heads (a connection that should have been discarded but was reused shows up there) and notes when the peer closes
 * it. Every connection records the request heads it read and whether the peer closed it.
 *
 * <pre>{@code
 * ScriptedBackend b = ScriptedBackend.start(
 *     Script.create().readRequest().write("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nok").reset(),
 *     Script.create().serve("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
 * }</pre>
 */
public final class ScriptedBackend implements AutoCloseable {
  private final ServerSocket server;
  private final List<Script> scripts;
  private final List<Connection> connections = new CopyOnWriteArrayList<>();
  private final Thread acceptor;

  private ScriptedBackend(List<Script> scripts) throws IOException {
    this.scripts = scripts;
    this.server = new ServerSocket();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    this.acceptor = new Thread(this::acceptLoop, "scripted-backend-" + server.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Starts a backend on an ephemeral loopback port; the last script serves every later connection too. */
  public static ScriptedBackend start(Script... scripts) throws IOException {
    if (scripts.length == 0) {
      throw new IllegalArgumentException("no script");
    }
    return new ScriptedBackend(List.of(scripts));
  }

  public String url() {
    return "http://127.0.0.1:" + server.getLocalPort();
  }

  /** Connections accepted so far. */
  public int connectionCount() {
    return connections.size();
  }

  /** Connection {@code index} in accept order. */
  public Connection connection(int index) {
    return connections.get(index);
  }

  /** Request heads read on all connections. */
  public int totalRequests() {
    return connections.stream().mapToInt(Connection::requests).sum();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      Socket socket;
      try {
        socket = server.accept();
      } catch (IOException e) {
        return;
      }
      int index = connections.size();
      Connection c;
      try {
        c = new Connection(index, socket);
      } catch (IOException e) {
        closeQuietly(socket);
        continue;
      }
      connections.add(c);
      Script script = scripts.get(Math.min(index, scripts.size() - 1));
      Thread t = new Thread(() -> c.run(script), "scripted-backend-conn-" + index);
      t.setDaemon(true);
      t.start();
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Connection c : connections) {
      closeQuietly(c.socket);
    }
    try {
      acceptor.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // Already gone.
    }
  }

  /** What one connection saw. */
  public static final class Connection {
    private final int index;
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final List<String> heads = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger requests = new AtomicInteger();
    private final CountDownLatch peerClosed = new CountDownLatch(1);
    private final CountDownLatch scriptDone = new CountDownLatch(1);

    private Connection(int index, Socket socket) throws IOException {
      this.index = index;
      this.socket = socket;
      socket.setTcpNoDelay(true);
      this.in = socket.getInputStream();
      this.out = socket.getOutputStream();
    }

    public int index() {
      return index;
    }

    /** Request heads read on this connection, scripted reads and held reads alike. */
    public int requests() {
      return requests.get();
    }

    /** The request heads read, as text. */
    public List<String> heads() {
      synchronized (heads) {
        return List.copyOf(heads);
      }
    }

    /** Whether the peer (the balancer) closed or reset this connection, waiting up to {@code timeout}. */
    public boolean awaitPeerClosed(Duration timeout) throws InterruptedException {
      return peerClosed.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Whether the connection ended, closed by its script or by the peer, waiting up to {@code timeout}. */
    public boolean awaitClosed(Duration timeout) throws InterruptedException {
      return scriptDone.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Whether the peer closed or reset this connection already. */
    public boolean peerClosed() {
      return peerClosed.getCount() == 0;
    }

    private void run(Script script) {
      try {
        for (Step step : script.steps) {
          if (!step.run(this)) {
            return;
          }
        }
        hold();
      } catch (IOException e) {
        peerClosed.countDown();
      } finally {
        scriptDone.countDown();
        closeQuietly(socket);
      }
    }

    /** Reads until the peer closes, counting request heads. */
    private void hold() throws IOException {
      while (readHead() != null) {
        // Counted; never answered.
      }
    }

    /** Reads one request head, or returns null (noting the peer's close) if the connection ended first. */
    private String readHead() throws IOException {
      StringBuilder head = new StringBuilder();
      int matched = 0;
      byte[] end = {'\r', '\n', '\r', '\n'};
      for (int b; (b = in.read()) >= 0; ) {
        head.append((char) b);
        matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        if (matched == end.length) {
          String text = head.toString();
          heads.add(text);
          requests.incrementAndGet();
          return text;
        }
      }
      peerClosed.countDown();
      return null;
    }

    /** Reads a request: its head and a Content-Length body. */
    private boolean readRequest() throws IOException {
      String head = readHead();
      if (head == null) {
        return false;
      }
      long length = 0;
      for (String line : head.split("\r\n")) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("content-length")) {
          length = Long.parseLong(line.substring(colon + 1).trim());
        }
      }
      for (long i = 0; i < length; i++) {
        if (in.read() < 0) {
          peerClosed.countDown();
          return false;
        }
      }
      return true;
    }
  }

  /** One step of a script; false ends the script with the connection closed. */
  @FunctionalInterface
  private interface Step {
    boolean run(Connection c) throws IOException;
  }

  /** What the backend does on a connection, step by step; immutable, each method returns a longer script. */
  public static final class Script {
    private final List<Step> steps;
    private final String description;

    private Script(List<Step> steps, String description) {
      this.steps = steps;
      this.description = description;
    }

    public static Script create() {
      return new Script(List.of(), "");
    }

    private Script then(String what, Step step) {
      List<Step> more = new ArrayList<>(steps);
      more.add(step);
      return new Script(List.copyOf(more), description.isEmpty() ? what : description + ", " + what);
    }

    /** Reads one request (head and Content-Length body); the script ends with the connection if it closes first. */
    public Script readRequest() {
      return then("read request", Connection::readRequest);
    }

    /** Waits (up to 10 s) until request bytes have arrived, without reading them. */
    public Script awaitBytes() {
      return then("await bytes", c -> {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (c.in.available() == 0) {
          if (System.nanoTime() - deadline > 0) {
            throw new IOException("no bytes arrived");
          }
          sleep(Duration.ofMillis(5));
        }
        return true;
      });
    }

    /** Writes {@code text} as ISO-8859-1 bytes and flushes. */
    public Script write(String text) {
      return write(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    public Script write(byte[] bytes) {
      byte[] copy = bytes.clone();
      return then("write " + copy.length + " bytes", c -> {
        c.out.write(copy);
        c.out.flush();
        return true;
      });
    }

    /** Writes {@code text} one byte at a time, {@code every} apart. */
    public Script drip(String text, Duration every) {
      byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
      return then("drip " + bytes.length + " bytes every " + every.toMillis() + " ms", c -> {
        for (byte b : bytes) {
          c.out.write(b);
          c.out.flush();
          sleep(every);
        }
        return true;
      });
    }

    /** Does nothing for {@code time}. */
    public Script pause(Duration time) {
      return then("pause " + time.toMillis() + " ms", c -> {
        sleep(time);
        return true;
      });
    }

    /** Ends the connection with a FIN. */
    public Script close() {
      return then("close", c -> {
        c.socket.close();
        return false;
      });
    }

    /** Ends the connection with a RST (SO_LINGER 0). */
    public Script reset() {
      return then("reset", c -> {
        c.socket.setSoLinger(true, 0);
        c.socket.close();
        return false;
      });
    }

    /** Answers every request with {@code reply} until the peer closes: a well-behaved keep-alive backend. */
    public Script serve(String reply) {
      byte[] bytes = reply.getBytes(StandardCharsets.ISO_8859_1);
      return then("serve", c -> {
        while (c.readRequest()) {
          c.out.write(bytes);
          c.out.flush();
        }
        return false;
      });
    }

    @Override
    public String toString() {
      return description.isEmpty() ? "hold" : description;
    }

    private static void sleep(Duration time) throws IOException {
      try {
        Thread.sleep(time.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted");
      }
    }
  }

  @Override
  public String toString() {
    return "ScriptedBackend(" + url() + ", " + connections.size() + " connections)";
  }
}
