package dev.lb.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

/**
 * Header rewriting between client and backend: hop-by-hop headers are removed (those RFC 9110 names and those the
 * {@code Connection} header lists), {@code X-Forwarded-*} is added to requests. Framing headers
 * ({@code Content-Length}, {@code Transfer-Encoding}) and {@code Host} are never removed, whatever
 * {@code Connection} lists: the encoder re-frames bodies from them.
 */
public final class ForwardedHeaders {
  public static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
  public static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
  public static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
  private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
  /** {@code X-Forwarded-Proto} for a plain client connection. */
  public static final AsciiString HTTP = AsciiString.cached("http");
  /** {@code X-Forwarded-Proto} for a client over TLS. */
  public static final AsciiString HTTPS = AsciiString.cached("https");
  private static final AsciiString COMMA_SPACE = AsciiString.cached(", ");

  private ForwardedHeaders() {}

  /**
   * Rewrites a request head in place for the backend.
   *
   * @param clientIp the client's address, appended to {@code X-Forwarded-For}
   * @param upgrade whether this is a WebSocket upgrade, whose {@code Connection: upgrade} and {@code Upgrade} go on
   */
  public static void rewriteRequest(HttpHeaders headers, AsciiString clientIp, boolean upgrade) {
    rewriteRequest(headers, clientIp, upgrade, HTTP);
  }

  /** As {@link #rewriteRequest(HttpHeaders, AsciiString, boolean)}, with {@code X-Forwarded-Proto: proto}. */
  public static void rewriteRequest(HttpHeaders headers, AsciiString clientIp, boolean upgrade, AsciiString proto) {
    removeHopByHop(headers);
    if (upgrade) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
    } else {
      headers.remove(HttpHeaderNames.UPGRADE);
    }
    if (!headers.contains(X_FORWARDED_FOR)) {
      headers.set(X_FORWARDED_FOR, clientIp);
    } else {
      StringBuilder joined = new StringBuilder(64);
      for (String hop : headers.getAll(X_FORWARDED_FOR)) {
        joined.append(hop).append(COMMA_SPACE);
      }
      headers.set(X_FORWARDED_FOR, joined.append(clientIp).toString());
    }
    headers.set(X_FORWARDED_PROTO, proto);
    CharSequence host = headers.get(HttpHeaderNames.HOST);
    if (host != null) {
      headers.set(X_FORWARDED_HOST, host);
    } else {
      headers.remove(X_FORWARDED_HOST);
    }
  }

  /** Rewrites a response head in place for the client: removes hop-by-hop headers. */
  public static void rewriteResponse(HttpHeaders headers) {
    removeHopByHop(headers);
    headers.remove(HttpHeaderNames.UPGRADE);
  }

  /** Removes {@code Connection} and the headers it names, {@code Keep-Alive}, {@code Proxy-Connection}, {@code TE}. */
  static void removeHopByHop(HttpHeaders headers) {
    if (headers.contains(HttpHeaderNames.CONNECTION)) {
      for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
        // The common values name no other header: nothing to take apart.
        if (!HttpHeaderValues.KEEP_ALIVE.contentEqualsIgnoreCase(value)
            && !HttpHeaderValues.CLOSE.contentEqualsIgnoreCase(value)) {
          removeListed(headers, value);
        }
      }
      headers.remove(HttpHeaderNames.CONNECTION);
    }
    headers.remove(HttpHeaderNames.KEEP_ALIVE);
    headers.remove(PROXY_CONNECTION);
    headers.remove(HttpHeaderNames.TE);
  }

  private static void removeListed(HttpHeaders headers, String connectionValue) {
    int start = 0;
    int n = connectionValue.length();
    while (start < n) {
      int comma = connectionValue.indexOf(',', start);
      int end = comma < 0 ? n : comma;
      String token = connectionValue.substring(start, end).trim();
      if (!token.isEmpty() && !isProtected(token)) {
        headers.remove(token);
      }
      start = end + 1;
    }
  }

  private static boolean isProtected(String name) {
    return HttpHeaderNames.HOST.contentEqualsIgnoreCase(name)
        || HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(name)
        || HttpHeaderNames.TRANSFER_ENCODING.contentEqualsIgnoreCase(name)
        || HttpHeaderNames.UPGRADE.contentEqualsIgnoreCase(name)
        || RequestIds.HEADER.contentEqualsIgnoreCase(name);
  }
}
