package dev.lb.server.admin;

/** Who may call a route. */
public enum Access {
  /** Anyone: health, readiness and metrics. */
  OPEN,
  /**
   * Operators only. With a non-empty {@code admin.token} the request needs {@code Authorization: Bearer <token>}
   * (else 401); with an empty token only loopback peers are let in (else 403).
   */
  MANAGEMENT
}
