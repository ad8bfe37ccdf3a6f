package dev.lb.discovery;

import java.util.Locale;

/** A name to watch, and how its records make members. */
public sealed interface DnsTarget {

  /** The name asked for: lower case, without a trailing dot. */
  String name();

  /** The record types asked for: {@code "A/AAAA"} or {@code "SRV"}. */
  String type();

  /**
   * Every address of a name (A and AAAA records, both asked for), each a member on the same port and weight: a
   * Kubernetes headless Service's pods, say ({@code dns: api-hl.prod.svc.cluster.local, port: 8080}).
   *
   * @param name a fully qualified name (no search domain is appended); a trailing dot is dropped
   * @param port every member's port
   * @param weight every member's weight, 1 to {@link Member#MAX_WEIGHT}
   */
  record Address(String name, int port, int weight) implements DnsTarget {
    public Address {
      name = normalise(name);
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("port out of range: " + port);
      }
      if (weight < 1 || weight > Member.MAX_WEIGHT) {
        throw new IllegalArgumentException("weight out of range: " + weight);
      }
    }

    @Override
    public String type() {
      return "A/AAAA";
    }
  }

  /**
   * The targets of a service's SRV records ({@code srv: _http._tcp.web-hl.prod.svc.cluster.local}): each target's
   * addresses are members with the record's port and weight (0 counting as 1, at most {@link Member#MAX_WEIGHT}).
   * Priorities are not used: every target is a member.
   *
   * @param name a fully qualified SRV name, {@code _service._proto.NAME}; a trailing dot is dropped
   */
  record Srv(String name) implements DnsTarget {
    public Srv {
      name = normalise(name);
    }

    @Override
    public String type() {
      return "SRV";
    }
  }

  private static String normalise(String name) {
    String n = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    if (n.isEmpty() || n.startsWith(".") || n.contains("..")) {
      throw new IllegalArgumentException("not a DNS name: " + name);
    }
    return n.toLowerCase(Locale.ROOT);
  }
}
