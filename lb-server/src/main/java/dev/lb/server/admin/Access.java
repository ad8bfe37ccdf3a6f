package dev.lb.server.admin;

/** Who may call a route. */
public enum Access {
  /** Anyone: health, readiness and metrics. */
  OPEN,
  /**
   * Operators only. With a non-empty {@code admin.token} the request needs {@code Authorization: Bearer <token>}
   * (else 401); with an empty token only loopback peers are let in (else 403).
   */
  MANAGEMENT,
  /**
   * As {@link #MANAGEMENT}, for a page a browser opens ({@code /status}): the token may also come as the password of
   * HTTP Basic credentials (any user name), and a missing one is asked for with a Basic challenge, so the browser
   * prompts for it and sends it again with the page's own requests.
   */
  BROWSER
}
