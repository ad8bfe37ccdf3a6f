package dev.lb.server.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The admin API's audit trail: one line for every request that may change something (any method but {@code GET},
 * {@code HEAD} and {@code OPTIONS}), answered or refused, saying who asked (address, and whether a bearer token came
 * with it; never the token), what (method and path), and the result (status, and the message of an error answer). The
 * logger is {@code dev.lb.server.admin.Audit}, so the lines can be routed or silenced apart from the rest.
 */
final class Audit {
  private static final Logger LOG = LogManager.getLogger(Audit.class);

  private Audit() {}

  /** Whether {@code method} may change something, so that its requests are audited. */
  static boolean writes(HttpMethod method) {
    return !HttpMethod.GET.equals(method) && !HttpMethod.HEAD.equals(method) && !HttpMethod.OPTIONS.equals(method);
  }

  /** Records the answer to a write. */
  static void record(AdminRequest request, AdminResponse response) {
    int status = response.status();
    String outcome = status < 400 ? String.valueOf(status) : status + " " + message(response);
    LOG.info("admin {} {} from {}: {}", request.method(), request.path(), who(request), outcome);
  }

  /** The caller: its address, and whether it presented a bearer token. */
  static String who(AdminRequest request) {
    SocketAddress remote = request.remoteAddress();
    String address = remote instanceof InetSocketAddress
        ? ((InetSocketAddress) remote).getAddress() != null
            ? ((InetSocketAddress) remote).getAddress().getHostAddress() : ((InetSocketAddress) remote).getHostString()
        : String.valueOf(remote);
    boolean token = AccessControl.bearerToken(request.headers().get(HttpHeaderNames.AUTHORIZATION)) != null;
    return address + (token ? " with a token" : " without a token");
  }

  /** The {@code message} of the contract's error body, in parentheses; empty when the body has none. */
  private static String message(AdminResponse response) {
    if (!AdminResponse.APPLICATION_JSON.equals(response.contentType())) {
      return "";
    }
    try {
      JsonNode message = AdminJson.MAPPER.readTree(response.body()).path("message");
      return message.isTextual() ? "(" + message.asText() + ")" : "";
    } catch (java.io.IOException e) {
      return "";
    }
  }
}
