package dev.lb.server.admin;

import static java.util.Objects.requireNonNull;

import io.netty.handler.codec.http.HttpHeaderNames;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.jspecify.annotations.Nullable;

/**
 * Decides whether a request may call a {@link Access#MANAGEMENT} route. With a token, the caller must present it as
 * a bearer token; without one, the caller must be on this host. Immutable and thread-safe.
 */
final class AccessControl {
  /** The refusals, built on first use (see {@link AdminDispatcher.Canned}). */
  static final class Refusals {
    static final AdminResponse UNAUTHORIZED =
        AdminResponse.error(401, "Unauthorized").withHeader(HttpHeaderNames.WWW_AUTHENTICATE.toString(), "Bearer");
    static final AdminResponse FORBIDDEN = AdminResponse.error(403, "Forbidden");
    static final AdminResponse UNAUTHORIZED_BROWSER = AdminResponse.error(401, "Unauthorized")
        .withHeader(HttpHeaderNames.WWW_AUTHENTICATE.toString(), "Basic realm=\"lb admin\", charset=\"UTF-8\"");

    private Refusals() {}
  }

  private static final String BEARER = "Bearer ";
  private static final String BASIC = "Basic ";

  /** SHA-256 of the token, or null when no token is set (loopback only). */
  private final byte @Nullable [] tokenDigest;

  private AccessControl(byte @Nullable [] tokenDigest) {
    this.tokenDigest = tokenDigest;
  }

  /** Access control for the given {@code admin.token}; empty means loopback callers only. */
  static AccessControl forToken(String token) {
    requireNonNull(token, "token");
    return new AccessControl(token.isEmpty() ? null : sha256(token));
  }

  /** Null if the request may go on, else the answer that refuses it. */
  @Nullable AdminResponse check(Access access, AdminRequest request) {
    if (access == Access.OPEN) {
      return null;
    }
    if (tokenDigest == null) {
      return isLoopback(request.remoteAddress()) ? null : Refusals.FORBIDDEN;
    }
    String authorization = request.headers().get(HttpHeaderNames.AUTHORIZATION);
    String presented = bearerToken(authorization);
    if (presented == null && access == Access.BROWSER) {
      presented = basicPassword(authorization);
    }
    // Digests have one length whatever was sent, and isEqual does not stop at the first difference, so the time
    // taken tells nothing about the token.
    boolean ok = presented != null && MessageDigest.isEqual(tokenDigest, sha256(presented));
    return ok ? null : access == Access.BROWSER ? Refusals.UNAUTHORIZED_BROWSER : Refusals.UNAUTHORIZED;
  }

  /** The password of an {@code Authorization: Basic <base64 of user:password>} value; null when there is none. */
  static @Nullable String basicPassword(@Nullable String authorization) {
    if (authorization == null) {
      return null;
    }
    String value = authorization.trim();
    if (value.length() <= BASIC.length() || !value.regionMatches(true, 0, BASIC, 0, BASIC.length())) {
      return null;
    }
    String decoded;
    try {
      decoded = new String(java.util.Base64.getDecoder().decode(value.substring(BASIC.length()).trim()),
          StandardCharsets.UTF_8);
    } catch (IllegalArgumentException notBase64) {
      return null;
    }
    int colon = decoded.indexOf(':');
    return colon < 0 ? null : decoded.substring(colon + 1);
  }

  /** The token of an {@code Authorization: Bearer <token>} value; null when there is none. */
  static @Nullable String bearerToken(@Nullable String authorization) {
    if (authorization == null) {
      return null;
    }
    String value = authorization.trim();
    // The scheme name is case-insensitive (RFC 9110, section 11.1).
    if (value.length() <= BEARER.length() || !value.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      return null;
    }
    return value.substring(BEARER.length()).trim();
  }

  /** 127.0.0.0/8, ::1, and IPv4-mapped 127.x (::ffff:127.0.0.1) as a dual-stack socket may report it. */
  static boolean isLoopback(@Nullable SocketAddress address) {
    if (!(address instanceof InetSocketAddress)) {
      return false;
    }
    InetAddress ip = ((InetSocketAddress) address).getAddress();
    if (ip == null) {
      return false;
    }
    if (ip.isLoopbackAddress()) {
      return true;
    }
    if (ip instanceof Inet6Address) {
      byte[] b = ip.getAddress();
      for (int i = 0; i < 10; i++) {
        if (b[i] != 0) {
          return false;
        }
      }
      return b[10] == (byte) 0xff && b[11] == (byte) 0xff && b[12] == 127;
    }
    return false;
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
