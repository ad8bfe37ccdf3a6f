package dev.lb.log;

import java.util.Locale;
import org.apache.logging.log4j.message.AsynchronouslyFormattable;
import org.apache.logging.log4j.message.MapMessage;

/**
 * One access-log entry. Its fields are kept under Elastic Common Schema names (so that a JSON layout can emit them as
 * top-level ECS fields with the {@code map} resolver), and it formats itself as one text line:
 *
 * <pre>127.0.0.1:51234 "GET /path HTTP/1.1" 200 1234 0.912ms backend=http://10.0.0.5:8080 attempts=1 upstream=0.640ms ratelimit=allowed id=5f0c... host=shop.example.com ua="curl/8.5.0"</pre>
 *
 * <p>with {@code tls=TLSv1.3 cipher=TLS_AES_128_GCM_SHA256 sni=shop.example.com} after {@code ua} for a client over
 * TLS ({@code sni=-} when it sent no server name), and {@code error="..."} at the end of an answer lb made itself with a 5xx, saying why ({@code connection
 * refused}, {@code connection reset}, {@code no response within 30000 ms}, {@code no backend can take the
 * request}...). {@code host} and {@code ua} are {@code -} when the request had none; quoted values escape {@code "}
 * and {@code \}.
 *
 * <p>Formatting happens on the logger's background thread, never on the event loop that logged it.
 */
@AsynchronouslyFormattable
public final class AccessLogMessage extends MapMessage<AccessLogMessage, Object> {
  private static final long serialVersionUID = 1L;

  public static final String CLIENT_ADDRESS = "client.address";
  public static final String CLIENT_PORT = "client.port";
  public static final String METHOD = "http.request.method";
  public static final String URL = "url.original";
  public static final String VERSION = "http.version";
  public static final String STATUS = "http.response.status_code";
  public static final String RESPONSE_BYTES = "http.response.body.bytes";
  public static final String REQUEST_BYTES = "http.request.body.bytes";
  public static final String DURATION_NANOS = "event.duration";
  public static final String REQUEST_ID = "http.request.id";
  public static final String BACKEND = "lb.backend";
  public static final String ATTEMPTS = "lb.attempts";
  public static final String OUTCOME = "event.outcome";
  public static final String UPSTREAM_NANOS = "lb.upstream.duration";
  public static final String RATE_LIMIT = "lb.ratelimit";
  public static final String HOST = "url.domain";
  public static final String USER_AGENT = "user_agent.original";
  public static final String ERROR = "error.message";
  /** Which route matched: its index in {@code routes}, {@code default} when none did, {@code -} without routes. */
  public static final String ROUTE = "lb.route";
  /** The upstream the request went to, {@code -} when no route matched and there is no default upstream. */
  public static final String UPSTREAM = "lb.upstream.name";
  /** The TLS version of a client over TLS ({@code TLSv1.3}); absent for a plain connection. */
  public static final String TLS_VERSION = "tls.version";
  /** The TLS cipher suite of a client over TLS; absent for a plain connection. */
  public static final String TLS_CIPHER = "tls.cipher";
  /** The server name a TLS client asked for (SNI), {@code -} when it sent none; absent for a plain connection. */
  public static final String TLS_SERVER_NAME = "tls.client.server_name";

  /** Builds an entry; a fresh one per request, as log4j2 keeps the message until it is written. */
  public static final class Builder {
    private String clientAddress = "-";
    private int clientPort;
    private String method = "-";
    private String url = "-";
    private String version = "-";
    private int status;
    private long responseBytes;
    private long requestBytes;
    private long durationNanos;
    private String requestId = "-";
    private String backend = "-";
    private int attempts;
    private long upstreamNanos = -1;
    private String rateLimit = "-";
    private String host = "-";
    private String userAgent = "-";
    private String error = "";
    private String route = "-";
    private String upstreamName = "-";
    private @org.jspecify.annotations.Nullable String tlsVersion;
    private String tlsCipher = "-";
    private String tlsServerName = "-";

    public Builder client(String address, int port) {
      this.clientAddress = address;
      this.clientPort = port;
      return this;
    }

    public Builder request(String method, String url, String version) {
      this.method = method;
      this.url = url;
      this.version = version;
      return this;
    }

    public Builder status(int status) {
      this.status = status;
      return this;
    }

    public Builder bytes(long requestBytes, long responseBytes) {
      this.requestBytes = requestBytes;
      this.responseBytes = responseBytes;
      return this;
    }

    public Builder durationNanos(long nanos) {
      this.durationNanos = nanos;
      return this;
    }

    /** From the last attempt's request sent to its backend to the end; -1 when no backend was reached. */
    public Builder upstreamNanos(long nanos) {
      this.upstreamNanos = nanos;
      return this;
    }

    /** {@code allowed}, {@code limited}, or {@code -} when rate limiting is off. */
    public Builder rateLimit(String outcome) {
      this.rateLimit = outcome;
      return this;
    }

    public Builder requestId(CharSequence id) {
      this.requestId = id.toString();
      return this;
    }

    /** The backend that answered (or was tried last), or null when the balancer answered itself. */
    public Builder backend(String backendUrl, int attempts) {
      this.backend = backendUrl;
      this.attempts = attempts;
      return this;
    }

    /** The request's {@code Host} and {@code User-Agent}; null for none. */
    public Builder agent(@org.jspecify.annotations.Nullable CharSequence host,
        @org.jspecify.annotations.Nullable CharSequence userAgent) {
      this.host = host == null ? "-" : host.toString();
      this.userAgent = userAgent == null ? "-" : userAgent.toString();
      return this;
    }

    /** Why lb answered a 5xx itself; null or empty when it did not. */
    public Builder error(@org.jspecify.annotations.Nullable String why) {
      this.error = why == null ? "" : why;
      return this;
    }

    /** The route that matched and its upstream (see {@link #ROUTE} and {@link #UPSTREAM}). */
    public Builder route(String routeName, String upstream) {
      this.route = routeName;
      this.upstreamName = upstream;
      return this;
    }

    /** The client's TLS version, cipher and server name; not called for a plain connection. */
    public Builder tls(String version, @org.jspecify.annotations.Nullable String cipher,
        @org.jspecify.annotations.Nullable String serverName) {
      this.tlsVersion = version;
      this.tlsCipher = cipher == null ? "-" : cipher;
      this.tlsServerName = serverName == null ? "-" : serverName;
      return this;
    }

    public AccessLogMessage build() {
      return new AccessLogMessage(this);
    }
  }

  private AccessLogMessage(Builder b) {
    super(21);
    with(CLIENT_ADDRESS, b.clientAddress);
    with(CLIENT_PORT, b.clientPort);
    with(METHOD, b.method);
    with(URL, b.url);
    with(VERSION, b.version);
    with(STATUS, b.status);
    with(RESPONSE_BYTES, b.responseBytes);
    with(REQUEST_BYTES, b.requestBytes);
    with(DURATION_NANOS, b.durationNanos);
    with(REQUEST_ID, b.requestId);
    with(BACKEND, b.backend);
    with(ATTEMPTS, b.attempts);
    with(UPSTREAM_NANOS, b.upstreamNanos);
    with(RATE_LIMIT, b.rateLimit);
    with(HOST, b.host);
    with(USER_AGENT, b.userAgent);
    with(ROUTE, b.route);
    with(UPSTREAM, b.upstreamName);
    if (b.tlsVersion != null) {
      with(TLS_VERSION, b.tlsVersion);
      with(TLS_CIPHER, b.tlsCipher);
      with(TLS_SERVER_NAME, b.tlsServerName);
    }
    if (!b.error.isEmpty()) {
      with(ERROR, b.error);
    }
    with(OUTCOME, b.status >= 500 || b.status == 0 ? "failure" : "success");
  }

  private AccessLogMessage(java.util.Map<String, Object> map) {
    super(map);
  }

  @Override
  public AccessLogMessage newInstance(java.util.Map<String, Object> map) {
    return new AccessLogMessage(map);
  }

  @Override
  public String getFormattedMessage() {
    StringBuilder sb = new StringBuilder(160);
    formatTo(sb);
    return sb.toString();
  }

  @Override
  public String getFormattedMessage(String[] formats) {
    return getFormattedMessage();
  }

  @Override
  public void formatTo(String[] formats, StringBuilder sb) {
    formatTo(sb);
  }

  @Override
  public void formatTo(StringBuilder sb) {
    sb.append(get(CLIENT_ADDRESS)).append(':').append(get(CLIENT_PORT))
        .append(" \"").append(get(METHOD)).append(' ').append(get(URL)).append(" HTTP/").append(get(VERSION))
        .append("\" ").append(get(STATUS))
        .append(' ').append(get(RESPONSE_BYTES))
        .append(' ').append(millis(getIndexedReadOnlyStringMap().getValue(DURATION_NANOS))).append("ms")
        .append(" backend=").append(get(BACKEND))
        .append(" attempts=").append(get(ATTEMPTS))
        .append(" upstream=").append(upstream())
        .append(" ratelimit=").append(get(RATE_LIMIT))
        .append(" route=").append(get(ROUTE))
        .append(" upstream_name=").append(get(UPSTREAM))
        .append(" id=").append(get(REQUEST_ID))
        .append(" host=").append(get(HOST));
    sb.append(" ua=");
    quoted(sb, get(USER_AGENT));
    String tls = get(TLS_VERSION);
    if (tls != null) {
      sb.append(" tls=").append(tls).append(" cipher=").append(get(TLS_CIPHER)).append(" sni=")
          .append(get(TLS_SERVER_NAME));
    }
    String error = get(ERROR);
    if (error != null) {
      sb.append(" error=");
      quoted(sb, error);
    }
  }

  /** {@code "value"} with {@code "} and {@code \} escaped; {@code -} stays bare. */
  private static void quoted(StringBuilder sb, @org.jspecify.annotations.Nullable String value) {
    if (value == null || value.equals("-")) {
      sb.append('-');
      return;
    }
    sb.append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '"' || c == '\\') {
        sb.append('\\');
      }
      sb.append(c);
    }
    sb.append('"');
  }

  private String upstream() {
    Object nanos = getIndexedReadOnlyStringMap().getValue(UPSTREAM_NANOS);
    return nanos instanceof Number && ((Number) nanos).longValue() >= 0 ? millis(nanos) + "ms" : "-";
  }

  private static String millis(@org.jspecify.annotations.Nullable Object nanos) {
    long n = nanos instanceof Number ? ((Number) nanos).longValue() : 0;
    return String.format(Locale.ROOT, "%.3f", n / 1_000_000.0);
  }
}
