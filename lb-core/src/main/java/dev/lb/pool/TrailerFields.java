package dev.lb.pool;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

/**
 * Drops the trailer fields that must not be trailers before a message's trailer section is passed on (RFC 9110 6.5.1:
 * a recipient must not merge them into the header section, and a hop that forwards them invites the next one to).
 * They are fields that frame the message ({@code Transfer-Encoding}, {@code Content-Length}), route it ({@code Host}),
 * modify the request ({@code Cache-Control}, {@code Expect}, {@code Max-Forwards}, {@code Pragma}, {@code Range},
 * {@code TE} and the conditionals), authenticate ({@code Authorization}, {@code Cookie} and their kin), control the
 * response ({@code Age}, {@code Date}, {@code Location}, {@code Vary} and others), describe how to process the
 * content ({@code Content-Encoding}, {@code Content-Type}, {@code Content-Range}, {@code Trailer}), or are
 * hop-by-hop ({@code Connection}, {@code Keep-Alive}, {@code Proxy-Connection}, {@code Upgrade}). The set is fixed:
 * fields that a {@code Connection} field names are not looked up.
 *
 * <p>Used on request trailers by the request guard, on decoded response trailers as they are relayed, and on the
 * trailer section of a chunked body relayed as its bytes ({@link ChunkTracker}).
 */
public final class TrailerFields {
  /** The fields dropped from trailers, lower case (header lookups ignore case). */
  static final AsciiString[] FORBIDDEN = {
      // framing and routing
      AsciiString.cached("transfer-encoding"),
      AsciiString.cached("content-length"),
      AsciiString.cached("host"),
      // request modifiers
      AsciiString.cached("cache-control"),
      AsciiString.cached("expect"),
      AsciiString.cached("max-forwards"),
      AsciiString.cached("pragma"),
      AsciiString.cached("range"),
      AsciiString.cached("te"),
      AsciiString.cached("if-match"),
      AsciiString.cached("if-none-match"),
      AsciiString.cached("if-modified-since"),
      AsciiString.cached("if-unmodified-since"),
      AsciiString.cached("if-range"),
      // authentication
      AsciiString.cached("authorization"),
      AsciiString.cached("proxy-authorization"),
      AsciiString.cached("www-authenticate"),
      AsciiString.cached("proxy-authenticate"),
      AsciiString.cached("cookie"),
      AsciiString.cached("set-cookie"),
      // response control
      AsciiString.cached("age"),
      AsciiString.cached("expires"),
      AsciiString.cached("date"),
      AsciiString.cached("location"),
      AsciiString.cached("retry-after"),
      AsciiString.cached("vary"),
      AsciiString.cached("warning"),
      // content processing
      AsciiString.cached("content-encoding"),
      AsciiString.cached("content-type"),
      AsciiString.cached("content-range"),
      AsciiString.cached("trailer"),
      // hop-by-hop
      AsciiString.cached("connection"),
      AsciiString.cached("keep-alive"),
      AsciiString.cached("proxy-connection"),
      AsciiString.cached("upgrade"),
  };

  private TrailerFields() {}

  /** Whether the field name of {@code length} bytes at {@code at} is one of the set, in any case. */
  static boolean forbidden(ByteBuf buf, int at, int length) {
    for (AsciiString name : FORBIDDEN) {
      if (name.length() == length && HeadBytes.is(buf, at, name)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Removes every field of the fixed set from {@code trailers}, in place, whatever the case of its name. Returns at
   * once when there are no trailers (the usual case, and then possibly a read-only empty set); otherwise it is one
   * lookup per name of the set, without allocating.
   */
  public static void strip(HttpHeaders trailers) {
    if (trailers.isEmpty()) {
      return;
    }
    for (AsciiString name : FORBIDDEN) {
      trailers.remove(name);
    }
  }
}
