package dev.lb.config;

import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/**
 * Backends found in DNS: every address of a name ({@code dns: NAME} with {@code port}, A and AAAA records), or every
 * target of a service ({@code srv: _service._proto.NAME}, whose records give ports and weights).
 *
 * @param kind which records name the members
 * @param name the name asked for, lower case, without a trailing dot
 * @param port the members' port for {@link Kind#DNS}; 0 for {@link Kind#SRV} (each record gives its own)
 * @param weight each member's weight for {@link Kind#DNS}; for {@link Kind#SRV} the records' weights are used
 * @param maxConnections each member's {@code max_connections}; 0 unlimited
 * @param tls the members' TLS settings (the entry's {@code tls} block key by key over its upstream's), which make
 *     them {@code https://} backends; null for plain {@code http://} members
 */
public record DnsBackendConfig(Kind kind, String name, int port, int weight, int maxConnections,
    @Nullable BackendTlsConfig tls) {

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

  /** Members reached over plain HTTP. */
  public DnsBackendConfig(Kind kind, String name, int port, int weight, int maxConnections) {
    this(kind, name, port, weight, maxConnections, null);
  }

  /** How logs and the admin API name it: {@code dns:NAME:PORT} or {@code srv:NAME}. */
  public String describe() {
    return kind == Kind.DNS ? "dns:" + name + ":" + port : "srv:" + name;
  }

  /**
   * The name the members' certificates are verified against, and sent as SNI, unless {@code server_name} says
   * otherwise: the name itself for {@code dns}; for {@code srv}, the domain of the service
   * ({@code web.example.com} for {@code _https._tcp.web.example.com}).
   */
  public String tlsName() {
    if (kind == Kind.DNS) {
      return name;
    }
    String[] labels = name.split("\\.", 3);
    return labels.length == 3 ? labels[2] : name;
  }
}
