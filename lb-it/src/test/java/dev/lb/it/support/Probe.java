package dev.lb.it.support;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A well-behaved client on a thread of its own that keeps sending {@code GET target} to {@code 127.0.0.1:port} while
 * a test does something else to the server, and records every request that did not get a 200: on one keep-alive
 * connection (opened again only after a failure), or on a new connection for each request.
 */
public final class Probe implements AutoCloseable {
  private final int port;
  private final String target;
  private final boolean newConnectionEach;
  private final Duration pause;
  private final AtomicLong ok = new AtomicLong();
  private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
  private final Thread thread;
  private volatile boolean running = true;

  private Probe(int port, String target, boolean newConnectionEach, Duration pause) {
    this.port = port;
    this.target = target;
    this.newConnectionEach = newConnectionEach;
    this.pause = pause;
    this.thread = new Thread(this::run, "probe-" + (newConnectionEach ? "new" : "keep-alive"));
    thread.setDaemon(true);
    thread.start();
  }

  /** Requests on one keep-alive connection, {@code pause} apart. */
  public static Probe keepAlive(int port, String target, Duration pause) {
    return new Probe(port, target, false, pause);
  }

  /** A new connection for each request, {@code pause} apart. */
  public static Probe newConnections(int port, String target, Duration pause) {
    return new Probe(port, target, true, pause);
  }

  /** Requests answered 200. */
  public long ok() {
    return ok.get();
  }

  /** What went wrong with the others. */
  public List<String> failures() {
    return List.copyOf(failures);
  }

  private void run() {
    RawHttpClient client = null;
    try {
      while (running) {
        long start = System.nanoTime();
        try {
          if (client == null) {
            client = RawHttpClient.connect(port);
          }
          RawResponse response = client.get(target).readResponse();
          if (response.status() == 200) {
            ok.incrementAndGet();
          } else {
            failures.add("status " + response.status() + ": " + response);
          }
          if (newConnectionEach || response.headers().hasToken("Connection", "close")) {
            client.close();
            client = null;
          }
        } catch (IOException e) {
          if (running) {
            failures.add(e + " after " + Duration.ofNanos(System.nanoTime() - start).toMillis() + " ms");
          }
          closeQuietly(client);
          client = null;
        }
        sleep();
      }
    } finally {
      closeQuietly(client);
    }
  }

  private void sleep() {
    try {
      Thread.sleep(pause.toMillis());
    } catch (InterruptedException e) {
      running = false;
    }
  }

  private static void closeQuietly(RawHttpClient client) {
    if (client != null) {
      try {
        client.close();
      } catch (IOException e) {
        // Going away anyway.
      }
    }
  }

  /** Stops after the request under way. */
  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.join(RawHttpClient.DEFAULT_TIMEOUT.toMillis() * 2);
  }
}
