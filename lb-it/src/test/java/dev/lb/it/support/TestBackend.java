package dev.lb.it.support;

import static java.util.Objects.requireNonNull;

import dev.lb.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A named HTTP/1.1 backend on 127.0.0.1 for integration tests, on its own one-thread event loop group. What it does
 * depends on the request path (numbers come from query parameters):
 *
 * <table>
 *   <caption>Routes</caption>
 *   <tr><td>{@code /} and anything unmatched</td><td>200, body the backend's name (text/plain)</td></tr>
 *   <tr><td>{@code /echo}</td><td>streams the request body back as it arrives (same Content-Length, else chunked)</td></tr>
 *   <tr><td>{@code /sha256}</td><td>hashes the body as it arrives; answers {@code {"bytes":N,"sha256":"hex"}}</td></tr>
 *   <tr><td>{@code /bytes?n=N&chunked=B&seed=S}</td><td>N bytes of {@link PseudoRandomBytes}(S), fixed length or
 *       chunked, written only while the channel is writable; see {@link #expectedSha256(long, long)}</td></tr>
 *   <tr><td>{@code /slow?ms=M}</td><td>like {@code /}, after M ms</td></tr>
 *   <tr><td>{@code /stall}</td><td>never answers</td></tr>
 *   <tr><td>{@code /close}</td><td>closes the connection after the request head, without answering</td></tr>
 *   <tr><td>{@code /reset}</td><td>resets the connection (SO_LINGER 0) after the request head</td></tr>
 *   <tr><td>{@code /status?code=C}</td><td>status C, body {@code NAME C}</td></tr>
 *   <tr><td>{@code /headers}</td><td>JSON: {@code backend, method, uri, protocol, request_line, headers} with
 *       lower-case names mapped to lists of values</td></tr>
 *   <tr><td>{@code /ws}</td><td>WebSocket echo of text and binary frames</td></tr>
 *   <tr><td>{@code /health}</td><td>200 {@code ok}, or the status set by {@link #setHealthStatus(int)}</td></tr>
 *   <tr><td>anything but {@code /health}, after {@link #setResetting(boolean) setResetting(true)}</td><td>as
 *       {@code /reset}</td></tr>
 * </table>
 *
 * <p>Keep-alive, pipelining, {@code Connection: close} and {@code Expect: 100-continue} work as in any HTTP/1.1
 * server. {@link #stop()} closes the listener and every connection but keeps the port, and {@link #restart()} binds
 * it again. {@link #close()} stops it and ends its threads.
 */
public final class TestBackend implements AutoCloseable {
  private final BackendState state;
  private final EventLoopGroup group;
  private final ServerBootstrap bootstrap;
  private final int port;
  private final String host;
  private final String scheme;
  private @Nullable Channel listener;
  private boolean closed;

  private TestBackend(BackendState state, EventLoopGroup group, ServerBootstrap bootstrap, Channel listener,
      boolean tls) {
    this.host = ((InetSocketAddress) listener.localAddress()).getAddress().getHostAddress();
    this.scheme = tls ? "https" : "http";
    this.state = state;
    this.group = group;
    this.bootstrap = bootstrap;
    this.listener = listener;
    this.port = ((InetSocketAddress) listener.localAddress()).getPort();
  }

  /** Starts a backend on an ephemeral loopback port with the best transport here. */
  public static TestBackend start(String name) {
    return start(name, Transport.detect());
  }

  /** Starts a backend on an ephemeral loopback port with the given transport. */
  public static TestBackend start(String name, Transport transport) {
    return start(name, transport, "127.0.0.1", 0);
  }

  /**
   * Starts a backend on {@code host:port} (any 127.x.y.z address is loopback on Linux: several backends may share a
   * port on different addresses, as the pods behind one DNS name do).
   */
  public static TestBackend start(String name, String host, int port) {
    return start(name, Transport.detect(), host, port);
  }

  /**
   * Starts a backend that speaks HTTPS on an ephemeral loopback port: TLS with {@code tls}'s certificate, then
   * everything a plain one does. It records the SNI name each client sent ({@link #sniNames()}) and the client
   * certificate each presented ({@link #clientSubjects()}).
   */
  public static TestBackend startTls(String name, TlsServer tls) {
    return start(name, Transport.detect(), "127.0.0.1", 0, requireNonNull(tls, "tls"));
  }

  private static TestBackend start(String name, Transport transport, String host, int port) {
    return start(name, transport, host, port, null);
  }

  private static TestBackend start(String name, Transport transport, String host, int port,
      @Nullable TlsServer tls) {
    requireNonNull(name, "name");
    requireNonNull(transport, "transport");
    EventLoopGroup group = transport.newGroup(1, "backend-" + name);
    try {
      BackendState state = new BackendState(name, new DefaultChannelGroup(name, group.next()));
      ServerBootstrap bootstrap =
          new ServerBootstrap()
              .group(group)
              .channel(transport.serverChannel())
              .option(ChannelOption.SO_REUSEADDR, true)
              .option(ChannelOption.SO_BACKLOG, 1024)
              .childOption(ChannelOption.TCP_NODELAY, true)
              .childHandler(new BackendInitializer(state, tls == null ? null : tls.context()));
      return new TestBackend(state, group, bootstrap, bind(bootstrap, host, port), tls != null);
    } catch (RuntimeException | Error e) {
      group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).syncUninterruptibly();
      throw e;
    }
  }

  /** SHA-256 (hex) of what {@code /bytes?n=N&seed=S} sends. */
  public static String expectedSha256(long n, long seed) {
    return PseudoRandomBytes.sha256(n, seed);
  }

  public String name() {
    return state.name();
  }

  /** The port, the same across {@link #stop()} and {@link #restart()}. */
  public int port() {
    return port;
  }

  /**
   * {@code http://HOST:PORT} ({@code https://} for one started with {@link #startTls}), {@code 127.0.0.1} unless
   * started on another address.
   */
  public String url() {
    return scheme + "://" + host + ":" + port;
  }

  /** The name each TLS client sent as SNI, in handshake order; {@code ""} for a client that sent none. */
  public List<String> sniNames() {
    return state.sniNames();
  }

  /**
   * The subject of the client certificate presented in each completed TLS handshake, in order; {@code ""} for a
   * client that presented none.
   */
  public List<String> clientSubjects() {
    return state.clientSubjects();
  }

  /** TLS handshakes that failed on this side (an unknown client certificate, a client that gave up). */
  public long failedHandshakes() {
    return state.failedHandshakes();
  }

  /** The address it listens on. */
  public String host() {
    return host;
  }

  /** {@link #url()} followed by {@code pathAndQuery}, which starts with a slash. */
  public String url(String pathAndQuery) {
    return url() + pathAndQuery;
  }

  /** TCP connections accepted since start, across restarts. */
  public long connectionsAccepted() {
    return state.connectionsAccepted();
  }

  /** Connections open now. */
  public int openConnections() {
    return state.channels().size();
  }

  /** The most connections that were open at once since start. */
  public int maxOpenConnections() {
    return state.maxOpenConnections();
  }

  /**
   * From now on every request but {@code /health} is answered like {@code /reset}: the connection is reset after the
   * request head (a backend whose application is broken while its health path still passes).
   */
  public void setResetting(boolean value) {
    state.resetting(value);
  }

  /** Well-formed request heads received since start (WebSocket upgrades included). */
  public long requests() {
    return state.requests();
  }

  /**
   * Requests received whole: a well-formed head and then a well-formed end of body. A request whose head arrived
   * but whose body was cut off or malformed is not counted.
   */
  public long completeRequests() {
    return state.completeRequests();
  }

  /** The heads received, oldest first, not yet taken by {@link #takeRequest(Duration)} (the last 10,000 at most). */
  public List<RecordedRequest> recordedRequests() {
    return state.recorded();
  }

  /**
   * The trailer fields of each request received whole, oldest first (empty for most), read-only; cleared with the
   * recorded heads.
   */
  public List<HttpHeaders> recordedTrailers() {
    return state.trailers();
  }

  /** The most recent request head, or null before the first. */
  public @Nullable RecordedRequest lastRequest() {
    return state.last();
  }

  /** Headers of the most recent request; empty before the first. */
  public HttpHeaders lastRequestHeaders() {
    RecordedRequest last = state.last();
    return last == null ? EmptyHttpHeaders.INSTANCE : last.headers();
  }

  /**
   * Removes and returns the oldest recorded head, waiting up to {@code timeout} for one.
   *
   * @throws AssertionError if none arrives in time
   */
  public RecordedRequest takeRequest(Duration timeout) throws InterruptedException {
    RecordedRequest request = state.takeRecorded(timeout);
    if (request == null) {
      throw new AssertionError("no request reached backend " + name() + " within " + timeout);
    }
    return request;
  }

  /** Forgets the recorded heads and trailers (the counters stay). */
  public void clearRecordedRequests() {
    state.clearRecorded();
  }

  /** What {@code /health} answers from now on: 200 by default. */
  public void setHealthStatus(int status) {
    if (status < 200 || status > 599) {
      throw new IllegalArgumentException("status " + status + " (expected: 200..599)");
    }
    state.healthStatus(status);
  }

  /** Delays the start of every answer by {@code millis} (0 to stop), on top of {@code /slow}. */
  public void setDelayMillis(long millis) {
    if (millis < 0) {
      throw new IllegalArgumentException("millis " + millis + " (expected: 0 or more)");
    }
    state.delayMillis(millis);
  }

  /**
   * Stops reading from every connection, current and new, until {@link #resumeReading()}. Returns once every open
   * connection has stopped; call it from a test thread, not an event loop.
   */
  public void pauseReading() {
    setReadingPaused(true);
  }

  /** Undoes {@link #pauseReading()}. */
  public void resumeReading() {
    setReadingPaused(false);
  }

  /** Closes every accepted connection; the listener stays. */
  public void closeConnections() {
    state.channels().close().awaitUninterruptibly();
  }

  /** Whether the listener is bound. */
  public synchronized boolean isRunning() {
    return listener != null;
  }

  /** Closes the listener and every connection; the port is kept for {@link #restart()}. Idempotent. */
  public synchronized void stop() {
    Channel bound = listener;
    listener = null;
    if (bound != null) {
      bound.close().awaitUninterruptibly();
    }
    closeConnections();
  }

  /**
   * Binds the same port again after {@link #stop()}.
   *
   * @throws IllegalStateException if running, closed, or the port is no longer free
   */
  public synchronized void restart() {
    if (closed) {
      throw new IllegalStateException("backend " + name() + " is closed");
    }
    if (listener != null) {
      throw new IllegalStateException("backend " + name() + " is running");
    }
    listener = bind(bootstrap, host, port);
  }

  /** Stops the backend and ends its event loop thread. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    stop();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Override
  public String toString() {
    return "TestBackend[" + name() + " " + url() + "]";
  }

  /** Flips the switch for new connections, then on every open one, and returns once all have it. */
  private void setReadingPaused(boolean paused) {
    state.readingPaused(paused);
    List<Future<?>> applied = new ArrayList<>();
    for (Channel ch : state.channels()) {
      applied.add(ch.eventLoop().submit(() -> ReadGate.of(ch).set(ReadGate.Reason.PAUSED, paused)));
    }
    for (Future<?> done : applied) {
      done.awaitUninterruptibly();
    }
  }

  private static Channel bind(ServerBootstrap bootstrap, String host, int port) {
    ChannelFuture bound = bootstrap.bind(new InetSocketAddress(host, port)).awaitUninterruptibly();
    if (!bound.isSuccess()) {
      throw new IllegalStateException("cannot bind " + host + ":" + port, bound.cause());
    }
    return bound.channel();
  }
}
