package dev.lb.backend;

import static java.util.Objects.requireNonNull;

import dev.lb.config.BackendConfig;
import dev.lb.config.BackendTlsConfig;
import dev.lb.config.IpAddresses;
import dev.lb.stats.BackendStats;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * One backend server: where it is, its weight, and its live counters. The identity of a backend is its normalised
 * URL; the object lives as long as the backend stays in the configuration, so counters survive a change of the
 * backend set.
 *
 * <p>Addresses given as IP literals are resolved here without DNS; host names stay unresolved and are resolved by the
 * connecting event loop's asynchronous resolver, so no DNS lookup ever blocks an event loop.
 */
public final class Backend {
  private final String url;
  private final String upstream;
  private volatile String name;
  private final String host;
  private final int port;
  private volatile int weight;
  private volatile int maxConnections;
  private volatile @Nullable BackendTlsConfig tls;
  private final AtomicInteger openConnections = new AtomicInteger();
  private final InetSocketAddress address;
  private final AtomicInteger activeRequests = new AtomicInteger();
  private final BackendHealth health;
  private volatile BackendMeters meters = BackendMeters.NONE;
  private final BackendStats stats = new BackendStats();

  /** A backend whose health is not tracked: it is always healthy. */
  public Backend(BackendConfig config) {
    this(config, BackendHealth.untracked());
  }

  /** A backend of the upstream named {@code default}. */
  public Backend(BackendConfig config, BackendHealth health) {
    this(config, health, "default");
  }

  /** A backend of {@code upstream}. */
  public Backend(BackendConfig config, BackendHealth health, String upstream) {
    requireNonNull(config, "config");
    this.upstream = requireNonNull(upstream, "upstream");
    this.health = requireNonNull(health, "health");
    this.url = config.url();
    this.name = config.name();
    this.host = config.host();
    this.port = config.port();
    this.weight = config.weight();
    this.maxConnections = config.maxConnections();
    this.tls = config.tls();
    this.address = socketAddress(host, port);
  }

  private static InetSocketAddress socketAddress(String host, int port) {
    byte[] literal = IpAddresses.bytes(host);
    if (literal == null) {
      return InetSocketAddress.createUnresolved(host, port);
    }
    try {
      return new InetSocketAddress(InetAddress.getByAddress(host, literal), port);
    } catch (java.net.UnknownHostException e) {
      throw new IllegalArgumentException("not an IP address: " + host, e);
    }
  }

  /**
   * The normalised URL, {@code http://host:port} or {@code https://host:port}: the backend's name in logs, metrics
   * and the admin API.
   */
  public String url() {
    return url;
  }

  /** The name of the upstream the backend belongs to ({@code default} for the top-level backends). */
  public String upstream() {
    return upstream;
  }

  /** The operator's name for the backend ({@code name} in the configuration); empty when none was given. */
  public String name() {
    return name;
  }

  /** Changes the name (a reload). */
  public void name(String value) {
    this.name = requireNonNull(value, "value");
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  public int weight() {
    return weight;
  }

  /** Changes the weight (a reload); the next published snapshot uses it. */
  public void reweight(int value) {
    if (value < 0) {
      throw new IllegalArgumentException("weight: " + value);
    }
    this.weight = value;
  }

  /** Most connections open to it at once (idle pooled ones included); 0 means unlimited. */
  public int maxConnections() {
    return maxConnections;
  }

  /** Changes the cap (a reload): connections over it are not closed, new ones wait until they are under it. */
  public void maxConnections(int value) {
    if (value < 0) {
      throw new IllegalArgumentException("maxConnections: " + value);
    }
    this.maxConnections = value;
  }

  /** {@code https} when lb speaks TLS to it, else {@code http}. */
  public String scheme() {
    return url.startsWith("https://") ? "https" : "http";
  }

  /**
   * For an {@code https} backend, the TLS settings in effect, with the client context made from them when the
   * configuration was read; null for {@code http}.
   */
  public @Nullable BackendTlsConfig tls() {
    return tls;
  }

  /**
   * Changes the TLS settings (a reload that changed them, or their files): new connections use them; pooled ones made
   * with the old settings are not reused.
   */
  public void tls(@Nullable BackendTlsConfig value) {
    if ((value != null) != url.startsWith("https://")) {
      throw new IllegalArgumentException("TLS settings go with an https:// URL, and only with one: " + url);
    }
    this.tls = value;
  }

  /** The name sent as SNI and verified in the backend's certificate: {@code server_name}, else the URL's host. */
  public String tlsName() {
    BackendTlsConfig t = tls;
    return t == null ? host : t.peerName(host);
  }

  /** Connections open or being opened to it, idle pooled ones included. */
  public int openConnections() {
    return openConnections.get();
  }

  /**
   * Takes a connection slot: always when uncapped, else only while fewer than {@code max_connections} are open. The
   * slot is given back by {@link #releaseConnection()} when the connection closes.
   */
  public boolean reserveConnection() {
    int max = maxConnections;
    if (max <= 0) {
      openConnections.incrementAndGet();
      return true;
    }
    for (int n = openConnections.get(); n < max; n = openConnections.get()) {
      if (openConnections.compareAndSet(n, n + 1)) {
        return true;
      }
    }
    return false;
  }

  /** Whether a slot is free now (always, when uncapped). */
  public boolean hasFreeSlot() {
    int max = maxConnections;
    return max <= 0 || openConnections.get() < max;
  }

  /** A connection closed: its slot is free. */
  public void releaseConnection() {
    openConnections.decrementAndGet();
  }

  /** The address to connect to; unresolved when the backend is named by a host name. */
  public InetSocketAddress address() {
    return address;
  }

  /** Its meters; meters that record into nothing until bound. */
  public BackendMeters meters() {
    return meters;
  }

  public void meters(BackendMeters value) {
    this.meters = requireNonNull(value, "meters");
  }

  /** Its traffic as the status page shows it. */
  public BackendStats stats() {
    return stats;
  }

  /** Its health, fed by probes and by traffic. */
  public BackendHealth health() {
    return health;
  }

  /** Requests sent to this backend and not yet answered in full. */
  public int activeRequests() {
    return activeRequests.get();
  }

  /** A request was attached to a connection to this backend. */
  public void requestStarted() {
    activeRequests.incrementAndGet();
  }

  /** A request attached to this backend ended, however it ended. */
  public void requestEnded() {
    activeRequests.decrementAndGet();
  }

  @Override
  public String toString() {
    return url;
  }
}
