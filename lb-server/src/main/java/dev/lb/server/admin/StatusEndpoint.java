package dev.lb.server.admin;

import static java.util.Objects.requireNonNull;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendHealth;
import dev.lb.stats.BackendStats;
import dev.lb.stats.LatencyHistogram;
import dev.lb.stats.ProxyStats;
import dev.lb.stats.TopClients;
import io.netty.handler.codec.http.HttpMethod;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * {@code GET /status}: the live status page, as HAProxy's stats page and Envoy's {@code /clusters} offer it. Without
 * a query, one self-contained HTML page (no script, font or style from elsewhere) that reloads its figures every two
 * seconds from {@code ?format=json} ({@code ?refresh=N} seconds, {@code 0} for none); {@code ?format=csv} gives one
 * row per backend for scripts. Everything shown is kept in lb, latency percentiles included, so the page works with
 * no Prometheus and in an air-gapped cluster. Access as {@code /backends}, plus HTTP Basic for browsers
 * ({@link Access#BROWSER}).
 *
 * <p>It runs on the blocking executor: it waits (briefly) for every worker loop to count its idle pooled connections.
 */
public final class StatusEndpoint {
  /** How long the page waits for the worker loops' idle counts before showing none. */
  static final Duration IDLE_COUNT_WAIT = Duration.ofSeconds(2);
  /** How many refused clients the page lists. */
  static final int TOP_REFUSED = 10;

  private static final String PAGE = load("status.html");
  /** The page's answer: the same for every request, so built once. */
  private static final AdminResponse PAGE_RESPONSE = AdminResponse.text(200, "text/html; charset=utf-8", PAGE)
      .withHeader("Cache-Control", "no-store")
      .withHeader("Content-Security-Policy",
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self';"
              + " img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
      .withHeader("X-Content-Type-Options", "nosniff");

  private StatusEndpoint() {}

  /** What the page reads; implemented by the server. */
  public interface Source {
    /** The backends, in configuration order. */
    List<Backend> backends();

    /** Idle pooled connections per backend, counted on the worker loops. */
    CompletableFuture<Map<Backend, Integer>> idleConnections();

    ProxyStats stats();

    /** The process as a whole, now. */
    Server server();
  }

  /**
   * The process as a whole.
   *
   * @param configFile the file read, or null when started without one (the demo)
   * @param configGeneration 1 at start, one more for each reload that changed something
   * @param lastReload the last reload, or null when none happened
   * @param rateLimit whether requests are rate limited
   * @param clientKey what identifies a client to the limiter
   * @param store the limits store's state ({@code ok}, {@code none}, or since when and why it is unavailable)
   * @param slowStartNanos the slow-start duration, 0 for none
   * @param configWatch whether the configuration file is reloaded when it changes ({@code config.watch})
   * @param signals what each signal does in this process: {@code drain}, {@code reload}, or why it is not handled
   */
  public record Server(
      String version,
      Instant startedAt,
      String transport,
      int workers,
      @Nullable String configFile,
      long configGeneration,
      @Nullable LastReload lastReload,
      int activeConnections,
      boolean draining,
      boolean rateLimit,
      String clientKey,
      String scope,
      String store,
      long slowStartNanos,
      boolean configWatch,
      Map<String, String> signals) {}

  /** A reload, when it happened and how it went ({@link ReloadOutcome}'s fields). */
  public record LastReload(
      String at, String result, List<String> changes, List<String> restartRequired, List<String> errors) {

    public static LastReload of(Instant at, ReloadOutcome outcome) {
      return new LastReload(at.toString(), outcome.result(), outcome.changes(), outcome.restartRequired(),
          outcome.errors());
    }
  }

  /** The page's figures ({@code ?format=json}); snake_case in JSON. */
  public record Page(String generatedAt, Lb lb, List<BackendView> backends) {}

  /** The process, as the JSON shows it. */
  public record Lb(
      String version,
      String startedAt,
      long uptimeSeconds,
      String transport,
      int workers,
      @Nullable String configFile,
      long configGeneration,
      @Nullable LastReload lastReload,
      boolean configWatch,
      Map<String, String> signals,
      Connections connections,
      Requests requests,
      RateLimit rateLimit,
      boolean draining) {}

  /** Client connections: open now, accepted and refused (by {@code proxy.max_connections}) since start. */
  public record Connections(int active, long accepted, long refused) {}

  /** Requests answered since start, per second over the last second, and the highest second since start. */
  public record Requests(long total, double perSecond, double peakPerSecond, @Nullable String peakAt) {}

  /**
   * Rate limiting: on or off; {@code scope} {@code local} (each replica keeps its own buckets) or {@code cluster} (one
   * bucket per client in Redis); the store's state (and Redis's, with the cluster scope);
   * 429s and the clients refused most over the last minute.
   */
  public record RateLimit(
      boolean enabled,
      String scope,
      String clientKey,
      String store,
      long limitedLastMinute,
      List<TopClients.Entry> topRefused) {}

  /**
   * One backend. {@code state} is {@code UP}, {@code DOWN} (active checks or outlier detection), {@code DRAIN} or
   * {@code MAINT} (the admin API), since {@code since}, for {@code reason}; {@code slow_start} goes from 0 to 1 as a
   * returning backend ramps up; {@code latency_ms} covers the last minute; bytes are body bytes.
   */
  public record BackendView(
      String url,
      String name,
      String upstream,
      String state,
      String since,
      String reason,
      @Nullable LastCheck lastCheck,
      long checksFailed,
      long stateChanges,
      int weight,
      double slowStart,
      Pool connections,
      int inFlight,
      long requests,
      Map<String, Long> responses,
      Map<String, Long> errors,
      Latency latencyMs,
      long bytesIn,
      long bytesOut,
      @Nullable String lastSelected,
      @Nullable Double lastSelectedSecondsAgo) {}

  /** The last active probe: when, whether it passed, what it found, and how long it took. */
  public record LastCheck(String at, boolean passed, String result, @Nullable Double durationMs) {}

  /**
   * Connections to the backend: {@code busy} (serving a request, or opening), {@code idle} in the worker loops'
   * pools (null when the loops did not answer in time), and its {@code max_connections} (0: no cap).
   */
  public record Pool(@Nullable Integer busy, @Nullable Integer idle, int max) {}

  /** Responses in the last minute and their latency percentiles, in milliseconds (null when none). */
  public record Latency(long count, @Nullable Double p50, @Nullable Double p95, @Nullable Double p99) {}

  public static AdminRouter.Builder register(AdminRouter.Builder routes, Source source) {
    requireNonNull(source, "source");
    return routes.routeBlocking(HttpMethod.GET, "/status", Access.BROWSER, request -> {
      String format = request.queryParam("format");
      if (format == null || format.isEmpty() || format.equals("html")) {
        return PAGE_RESPONSE;
      }
      if (format.equals("json")) {
        return AdminResponse.json(200, page(source)).withHeader("Cache-Control", "no-store");
      }
      if (format.equals("csv")) {
        return AdminResponse.text(200, "text/csv; charset=utf-8", csv(page(source)))
            .withHeader("Cache-Control", "no-store");
      }
      return AdminResponse.error(400, "format: expected html, json or csv, got '" + format + "'");
    });
  }

  /** The page's figures now. */
  static Page page(Source source) throws InterruptedException {
    Map<Backend, Integer> idle = idleCounts(source);
    long nowNanos = System.nanoTime();
    Instant now = Instant.now();
    Server server = source.server();
    ProxyStats stats = source.stats();
    List<BackendView> views = new ArrayList<>();
    for (Backend b : source.backends()) {
      views.add(view(b, idle, server.slowStartNanos(), now, nowNanos));
    }
    long peakAt = stats.peakAtMillis();
    Lb lb = new Lb(
        server.version(),
        server.startedAt().toString(),
        Duration.between(server.startedAt(), now).toSeconds(),
        server.transport(),
        server.workers(),
        server.configFile(),
        server.configGeneration(),
        server.lastReload(),
        server.configWatch(),
        server.signals(),
        new Connections(server.activeConnections(), stats.connectionsAccepted(), stats.connectionsRefused()),
        new Requests(stats.requests(), round(stats.requestsPerSecond()), round(stats.peakRequestsPerSecond()),
            peakAt == 0 ? null : Instant.ofEpochMilli(peakAt).toString()),
        new RateLimit(server.rateLimit(), server.scope(), server.clientKey(), server.store(), stats.rateLimitedLastMinute(),
            stats.topRefused(TOP_REFUSED)),
        server.draining());
    return new Page(now.toString(), lb, views);
  }

  private static @Nullable Map<Backend, Integer> idleCounts(Source source) throws InterruptedException {
    try {
      return source.idleConnections().get(IDLE_COUNT_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      return null;
    }
  }

  static BackendView view(Backend b, @Nullable Map<Backend, Integer> idleCounts, long slowStartNanos, Instant now,
      long nowNanos) {
    BackendHealth h = b.health();
    BackendStats s = b.stats();
    String state;
    String since;
    String reason;
    if (h.admin() != BackendHealth.Admin.READY) {
      state = h.admin().name();
      since = h.adminSince().toString();
      reason = "set by the admin API";
    } else if (!h.activeUp()) {
      state = "DOWN";
      since = h.stateSince().toString();
      reason = h.stateReason();
    } else if (h.ejected()) {
      state = "DOWN";
      since = h.lastChange().toString();
      reason = "ejected by outlier detection until " + h.ejectedUntil() + ", the last error: " + h.lastError();
    } else {
      state = "UP";
      since = h.lastChange().toString();
      reason = h.policy().tracking() ? h.stateReason() : "health checks off";
    }
    Instant checked = h.lastCheck();
    long checkNanos = h.lastCheckNanos();
    LastCheck lastCheck = checked == null ? null : new LastCheck(checked.toString(), h.lastCheckPassed(),
        h.lastCheckResult(), checkNanos < 0 ? null : round(checkNanos / 1e6));
    Integer idle = idleCounts == null ? null : idleCounts.getOrDefault(b, 0);
    Integer busy = idle == null ? null : Math.max(0, b.openConnections() - idle);
    Map<String, Long> responses = new LinkedHashMap<>();
    for (int c = 0; c < 5; c++) {
      responses.put((c + 1) + "xx", s.responses(c));
    }
    Map<String, Long> errors = new LinkedHashMap<>();
    for (BackendStats.ErrorKind kind : BackendStats.ErrorKind.values()) {
      errors.put(kind.key(), s.errors(kind));
    }
    errors.put("retried", s.retries());
    long[] window = s.lastMinute(nowNanos);
    long count = 0;
    for (long n : window) {
      count += n;
    }
    Latency latency = new Latency(count, millis(window, 0.50), millis(window, 0.95), millis(window, 0.99));
    long selected = s.lastSelectedNanos();
    Double ago = selected == 0 ? null : round(Math.max(0, nowNanos - selected) / 1e9);
    return new BackendView(
        b.url(),
        b.name(),
        b.upstream(),
        state,
        since,
        reason,
        lastCheck,
        h.checksFailed(),
        h.stateChanges(),
        b.weight(),
        slowStart(h, slowStartNanos, nowNanos),
        new Pool(busy, idle, b.maxConnections()),
        b.activeRequests(),
        s.requests(),
        responses,
        errors,
        latency,
        s.bytesIn(),
        s.bytesOut(),
        ago == null ? null : now.minusNanos(Math.max(0, nowNanos - selected)).toString(),
        ago);
  }

  /** How far a returning backend is through slow start, from 0 to 1 (1 when it is not ramping). */
  static double slowStart(BackendHealth h, long slowStartNanos, long nowNanos) {
    long back = h.backSinceNanos();
    if (back == 0 || slowStartNanos <= 0) {
      return 1;
    }
    return round(Math.min(1, Math.max(0, (double) (nowNanos - back) / slowStartNanos)));
  }

  private static @Nullable Double millis(long[] window, double q) {
    long nanos = LatencyHistogram.quantileNanos(window, q);
    return nanos < 0 ? null : round(nanos / 1e6);
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  /** Column names of {@code ?format=csv}, one row per backend after them. */
  static final List<String> CSV_COLUMNS = List.of("url", "name", "upstream", "state", "since", "reason", "weight", "slow_start",
      "in_flight", "busy", "idle", "max_connections", "requests", "1xx", "2xx", "3xx", "4xx", "5xx",
      "connect_refused", "reset", "timeout", "malformed", "closed", "other", "retried", "latency_count", "p50_ms",
      "p95_ms", "p99_ms", "bytes_in", "bytes_out", "checks_failed", "state_changes", "last_check_result",
      "last_check_ms", "last_selected");

  static String csv(Page page) {
    StringBuilder out = new StringBuilder();
    row(out, CSV_COLUMNS);
    for (BackendView b : page.backends()) {
      List<Object> cells = new ArrayList<>();
      cells.add(b.url());
      cells.add(b.name());
      cells.add(b.upstream());
      cells.add(b.state());
      cells.add(b.since());
      cells.add(b.reason());
      cells.add(b.weight());
      cells.add(b.slowStart());
      cells.add(b.inFlight());
      cells.add(b.connections().busy());
      cells.add(b.connections().idle());
      cells.add(b.connections().max());
      cells.add(b.requests());
      cells.addAll(b.responses().values());
      cells.addAll(b.errors().values());
      cells.add(b.latencyMs().count());
      cells.add(b.latencyMs().p50());
      cells.add(b.latencyMs().p95());
      cells.add(b.latencyMs().p99());
      cells.add(b.bytesIn());
      cells.add(b.bytesOut());
      cells.add(b.checksFailed());
      cells.add(b.stateChanges());
      LastCheck check = b.lastCheck();
      cells.add(check == null ? null : check.result());
      cells.add(check == null ? null : check.durationMs());
      cells.add(b.lastSelected());
      row(out, cells);
    }
    return out.toString();
  }

  /** One CSV line (RFC 4180): fields with a comma, quote or line break are quoted; null is empty. */
  private static void row(StringBuilder out, List<?> cells) {
    for (int i = 0; i < cells.size(); i++) {
      if (i > 0) {
        out.append(',');
      }
      Object cell = cells.get(i);
      String text = cell == null ? "" : cell.toString();
      if (text.indexOf(',') >= 0 || text.indexOf('"') >= 0 || text.indexOf('\n') >= 0 || text.indexOf('\r') >= 0) {
        out.append('"').append(text.replace("\"", "\"\"")).append('"');
      } else {
        out.append(text);
      }
    }
    out.append("\r\n");
  }

  private static String load(String name) {
    try (InputStream in = StatusEndpoint.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The page's HTML, for tests. */
  static String html() {
    return PAGE;
  }
}
