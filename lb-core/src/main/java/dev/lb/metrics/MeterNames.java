package dev.lb.metrics;

/**
 * Every meter name and tag of the balancer, in one place. Names are Micrometer's dotted form; the Prometheus registry
 * writes them as {@code lb_requests_total}, {@code lb_request_duration_seconds} and so on. No tag ever carries a
 * client id: tags are backends (a handful, from the configuration), status codes and fixed words.
 */
public final class MeterNames {
  private MeterNames() {}

  /** Counter {@code lb_requests_total{backend,code}}: requests answered, by backend ({@link #NONE} when lb answered). */
  public static final String REQUESTS = "lb.requests";
  /** Timer {@code lb_request_duration_seconds{backend}}: from the request head to the end of its response. */
  public static final String REQUEST_DURATION = "lb.request.duration";
  /** Gauge {@code lb_backend_up{backend}}: 1 while the backend takes traffic, else 0. */
  public static final String BACKEND_UP = "lb.backend.up";
  /** Gauge {@code lb_backend_active_requests{backend}}: requests in flight. */
  public static final String BACKEND_ACTIVE_REQUESTS = "lb.backend.active.requests";
  /** Counter {@code lb_retries_total{backend}}: attempts on this backend that failed and were retried elsewhere. */
  public static final String RETRIES = "lb.retries";
  /** Counter {@code lb_ratelimit_rejected_total}: requests answered 429. */
  public static final String RATELIMIT_REJECTED = "lb.ratelimit.rejected";
  /** Gauge {@code lb_connections_active}: open client connections. */
  public static final String CONNECTIONS_ACTIVE = "lb.connections.active";
  /** Counter {@code lb_connections_accepted_total}: client connections accepted. */
  public static final String CONNECTIONS_ACCEPTED = "lb.connections.accepted";
  /** Counter {@code lb_connections_refused_total}: client connections closed at once, over max_connections. */
  public static final String CONNECTIONS_REFUSED = "lb.connections.refused";
  /** Counter {@code lb_health_checks_total{backend,result}}: active probes, {@code pass} or {@code fail}. */
  public static final String HEALTH_CHECKS = "lb.health.checks";
  /** Counter {@code lb_reloads_total{result}}: configuration reloads, {@code success} or {@code failure}. */
  public static final String RELOADS = "lb.reloads";
  /** HTTP/2 connections closed for a flood, by {@link #TAG_KIND}. */
  public static final String HTTP2_FLOODS = "lb.http2.floods";
  /** TLS handshakes with clients that failed (or timed out). */
  public static final String TLS_HANDSHAKE_FAILURES = "lb.tls.handshake.failures";
  /** Re-reads of the listener's certificate files, by {@link #TAG_RESULT}. */
  public static final String TLS_CERTIFICATE_RELOADS = "lb.tls.certificate.reloads";
  /** Client connections by the protocol they settled on, by {@link #TAG_PROTOCOL}. */
  public static final String CONNECTIONS_PROTOCOL = "lb.connections.protocol";

  /** Gauge {@code lb_backend_active_up{backend}}: 1 while active health checks say up (or are off), else 0. */
  public static final String BACKEND_ACTIVE_UP = "lb.backend.active.up";
  /** Gauge {@code lb_backend_ejected{backend}}: 1 while outlier detection has the backend ejected, else 0. */
  public static final String BACKEND_EJECTED = "lb.backend.ejected";
  /** Counter {@code lb_backend_ejections_total{backend}}: ejections by outlier detection. */
  public static final String BACKEND_EJECTIONS = "lb.backend.ejections";
  /** Gauge {@code lb_backend_connections{backend}}: connections open to the backend, idle pooled ones included. */
  public static final String BACKEND_CONNECTIONS = "lb.backend.connections";
  /** Counter {@code lb_retries_skipped_total{reason}}: retries not made, {@code budget} or {@code timeout}. */
  public static final String RETRIES_SKIPPED = "lb.retries.skipped";
  /** Gauge {@code lb_queue_length}: requests waiting for a backend connection under {@code max_connections}. */
  public static final String QUEUE_LENGTH = "lb.queue.length";
  /** Timer {@code lb_queue_wait_seconds}: how long requests waited in the queue, served or not. */
  public static final String QUEUE_WAIT = "lb.queue.wait";
  /** Counter {@code lb_queue_rejected_total{reason}}: requests answered 503, queue {@code full} or {@code timeout}. */
  public static final String QUEUE_REJECTED = "lb.queue.rejected";

  public static final String TAG_BACKEND = "backend";
  /** The upstream of a backend (or of lb's own answer), {@code default} for the top-level backends. */
  public static final String TAG_UPSTREAM = "upstream";
  /** The upstream of lb's own answers to requests no route matched. */
  public static final String NO_UPSTREAM = "none";
  public static final String TAG_REASON = "reason";
  public static final String TAG_KIND = "kind";
  public static final String TAG_PROTOCOL = "protocol";
  public static final String TAG_CODE = "code";
  public static final String TAG_RESULT = "result";

  /** The backend tag of answers lb made itself. */
  public static final String NONE = "none";
}
