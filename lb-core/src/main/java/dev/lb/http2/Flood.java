package dev.lb.http2;

/**
 * A flood an HTTP/2 client was caught at; each ends its connection with GOAWAY {@code ENHANCE_YOUR_CALM} and is
 * reported once per connection (see {@link Http2ServerCodecs}).
 */
public enum Flood {
  /**
   * Streams reset by the client before lb answered them (CVE-2023-44487, rapid reset), or RST_STREAM frames of any
   * kind at ten times that rate.
   */
  RAPID_RESET("rapid_reset"),
  /** A header block of too many CONTINUATION frames, or of more bytes than the header list may have (CVE-2024-27316). */
  CONTINUATION("continuation"),
  /** SETTINGS frames, each of which lb must acknowledge (CVE-2019-9515). */
  SETTINGS("settings"),
  /** PING frames, each of which lb must answer (CVE-2019-9512). */
  PING("ping"),
  /** DATA frames with no data and no END_STREAM, which cost work and move no request on (CVE-2019-9518). */
  EMPTY_DATA("empty_data"),
  /**
   * The client made lb reset too many of its streams (invalid frames on open streams, streams over the concurrency
   * limit: CVE-2025-8671, "MadeYouReset", and CVE-2019-9514); Netty's own limit on RST_STREAM frames written.
   */
  RESETS_SENT("resets_sent"),
  /**
   * The client let too many of lb's acknowledgements and resets pile up unsent, by not reading them; Netty's own
   * limit on queued control frames.
   */
  CONTROL_BACKLOG("control_backlog");

  private final String key;

  Flood(String key) {
    this.key = key;
  }

  /** The name for metric labels and logs, such as {@code rapid_reset}. */
  public String key() {
    return key;
  }
}
