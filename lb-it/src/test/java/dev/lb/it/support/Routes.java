package dev.lb.it.support;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The backend's routes: picks the {@link Exchange} for a request path and parses its query parameters. A bad number
 * in a parameter is answered with 400.
 */
final class Routes {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Routes() {}

  /** The exchange that answers {@code request}. */
  static Exchange select(ChannelHandlerContext ctx, HttpRequest request, BackendState state) {
    QueryStringDecoder query = new QueryStringDecoder(originForm(request.uri()));
    if (state.resetting() && !"/health".equals(query.path())) {
      return new DropExchange(ctx, request, true);
    }
    try {
      switch (query.path()) {
        case "/echo":
          return new EchoExchange(ctx, request);
        case "/sha256":
          return new DigestExchange(ctx, request);
        case "/bytes":
          return new BytesExchange(
              ctx,
              request,
              nonNegative(query, "n", 0),
              Boolean.parseBoolean(param(query, "chunked", "false")),
              Long.parseLong(param(query, "seed", "0")));
        case "/stall":
          return new StallExchange(ctx, request);
        case "/close":
          return new DropExchange(ctx, request, false);
        case "/reset":
          return new DropExchange(ctx, request, true);
        case "/status":
          int code = Integer.parseInt(param(query, "code", "200"));
          if (code < 200 || code > 599) {
            throw new NumberFormatException("code " + code + " (expected: 200..599)");
          }
          return text(ctx, request, HttpResponseStatus.valueOf(code), state.name() + ' ' + code);
        case "/health":
          int health = state.healthStatus();
          return text(ctx, request, HttpResponseStatus.valueOf(health), health < 300 ? "ok" : "unhealthy");
        case "/headers":
          return new CannedExchange(ctx, request, HttpResponseStatus.OK, Responses.JSON, headersJson(request, state));
        default:
          return text(ctx, request, HttpResponseStatus.OK, state.name());
      }
    } catch (NumberFormatException e) {
      return text(ctx, request, HttpResponseStatus.BAD_REQUEST, "bad parameter: " + e.getMessage());
    }
  }

  /** How long to wait before starting to answer: the backend-wide delay, plus {@code ms} on {@code /slow}. */
  static long delayMillis(HttpRequest request, BackendState state) {
    long delay = state.delayMillis();
    QueryStringDecoder query = new QueryStringDecoder(originForm(request.uri()));
    if ("/slow".equals(query.path())) {
      try {
        delay += nonNegative(query, "ms", 0);
      } catch (NumberFormatException e) {
        // Routes.select answers 400 for it.
      }
    }
    return delay;
  }

  private static Exchange text(
      ChannelHandlerContext ctx, HttpRequest request, HttpResponseStatus status, String body) {
    return new CannedExchange(ctx, request, status, Responses.TEXT, body.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] headersJson(HttpRequest request, BackendState state) {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : request.headers()) {
      headers.computeIfAbsent(e.getKey().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(e.getValue());
    }
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("backend", state.name());
    json.put("method", request.method().name());
    json.put("uri", request.uri());
    json.put("protocol", request.protocolVersion().text());
    json.put("request_line", request.method().name() + ' ' + request.uri() + ' ' + request.protocolVersion().text());
    json.put("headers", headers);
    try {
      return JSON.writeValueAsBytes(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Drops scheme and authority from an absolute-form target, so routes match either form. */
  private static String originForm(String uri) {
    int scheme = uri.indexOf("://");
    if (scheme < 0 || uri.startsWith("/")) {
      return uri;
    }
    int path = uri.indexOf('/', scheme + 3);
    return path < 0 ? "/" : uri.substring(path);
  }

  private static String param(QueryStringDecoder query, String name, String fallback) {
    List<String> values = query.parameters().get(name);
    return values == null || values.isEmpty() ? fallback : values.get(0);
  }

  private static long nonNegative(QueryStringDecoder query, String name, long fallback) {
    long value = Long.parseLong(param(query, name, Long.toString(fallback)));
    if (value < 0) {
      throw new NumberFormatException(name + " " + value + " (expected: 0 or more)");
    }
    return value;
  }
}
