package dev.lb.proxy;

import dev.lb.pool.ConnectionPool;
import java.util.ArrayDeque;

/**
 * Idle {@link Exchange}s of one event loop, for the next connection with a request: a connection holds an exchange
 * only while it serves requests, so ten thousand idle keep-alive connections hold none, and back-to-back requests
 * still make none (the exchange goes back here at the end of one and comes out again with the next). Confined to
 * its event loop; keeps at most {@value #MAX} idle exchanges.
 */
final class Spares {
  static final int MAX = 1024;

  private final ProxyContext context;
  private final ConnectionPool pool;
  private final ArrayDeque<Exchange> idle = new ArrayDeque<>();

  Spares(ProxyContext context, ConnectionPool pool) {
    this.context = context;
    this.pool = pool;
  }

  /** An exchange serving {@code client}'s connection. */
  Exchange take(ClientSide client) {
    Exchange e = idle.pollLast();
    if (e == null) {
      return new Exchange(client, context, pool);
    }
    e.bind(client);
    return e;
  }

  /** Takes back an exchange that serves no request. */
  void put(Exchange e) {
    if (idle.size() < MAX) {
      idle.addLast(e);
    }
  }
}
