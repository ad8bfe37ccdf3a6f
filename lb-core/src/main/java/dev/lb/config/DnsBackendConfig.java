package dev.lb.config;

import static java.util.Objects.requireNonNull;

/**
 * Backends found in DNS: every address of a name ({@code dns: NAME} with {@code port}, A and AAAA records), or every
 * target of a service ({@code srv: _service._proto.NAME}, whose records give ports and weights).
 *
 * @param kind which records name the members
 * @param name the name asked for, lower case, without a trailing dot
 * @param port the members' port for {@link Kind#DNS}; 0 for {@link Kind#SRV} (each record gives its own)
 * @param weight each member's weight for {@link Kind#DNS}; for {@link Kind#SRV} the records' weights are used
 * @param maxConnections each member's {@code max_connections}; 0 unlimited
 */
public record DnsBackendConfig(Kind kind, String name, int port, int weight, int maxConnections) {

  /** Which records name the members. */
  public enum Kind {
    /** A and AAAA records, with the configured port. */
    DNS,
    /** SRV records: target, port and weight each. */
    SRV
  }

  public DnsBackendConfig {
    requireNonNull(kind, "kind");
    requireNonNull(name, "name");
  }

  /** How logs and the admin API name it: {@code dns:NAME:PORT} or {@code srv:NAME}. */
  public String describe() {
    return kind == Kind.DNS ? "dns:" + name + ":" + port : "srv:" + name;
  }
}
