package dev.lb.ratelimit;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Every client's limit: its entry in the store (set through the API), else its entry in the configuration, else the
 * default. The store's entries are an immutable map swapped whole (after a poll, or a write through this replica's
 * API), so the hot path resolves a limit with two hash lookups and no lock. {@link #version()} changes on every
 * swap: a bucket that saw the same version needs no lookup at all.
 */
public final class LimitRegistry {
  private volatile Limit defaultLimit;
  private volatile Map<String, Limit> config;
  private volatile Map<String, Limit> api = Map.of();
  /** The limits of upstreams with a {@code rate_limit.default} of their own, by upstream name. */
  private volatile Map<String, Limit> upstreamDefaults = Map.of();

  /** Between a client key and an upstream's name in the key of the client's bucket for that upstream. */
  public static final String UPSTREAM_MARK = " @";
  private volatile long version;

  /**
   * @param defaultLimit the limit of a client with no entry
   * @param config static per-client limits, by client id (ids are normalised here)
   */
  public LimitRegistry(Limit defaultLimit, Map<String, Limit> config) {
    this.defaultLimit = requireNonNull(defaultLimit, "defaultLimit");
    this.config = normalised(config);
  }

  private static Map<String, Limit> normalised(Map<String, Limit> config) {
    Map<String, Limit> out = new HashMap<>();
    config.forEach((id, limit) -> out.put(ClientIds.normalize(id), limit));
    return Map.copyOf(out);
  }

  /**
   * Replaces the default and the configured clients (a reload). Buckets of clients whose limit is unchanged keep
   * going as they were; the others change on their next request, keeping their tokens.
   */
  public synchronized void reconfigure(Limit nextDefault, Map<String, Limit> nextConfig) {
    Map<String, Limit> n = normalised(nextConfig);
    if (!nextDefault.equals(defaultLimit) || !n.equals(config)) {
      defaultLimit = requireNonNull(nextDefault, "defaultLimit");
      config = n;
      version++;
    }
  }

  public Limit defaultLimit() {
    return defaultLimit;
  }

  /** Changes whenever the store's entries change here. */
  public long version() {
    return version;
  }

  /**
   * The limit of this client key (already normalised by the key extractor); for a key {@link #scoped} to an upstream
   * with a default of its own, that default.
   */
  public Limit limitOf(String clientKey) {
    Limit l = api.get(clientKey);
    if (l != null) {
      return l;
    }
    Map<String, Limit> configured = config;
    l = configured.get(clientKey);
    if (l != null) {
      return l;
    }
    Map<String, Limit> upstreams = upstreamDefaults;
    int mark = upstreams.isEmpty() ? -1 : clientKey.lastIndexOf(UPSTREAM_MARK);
    if (mark >= 0) {
      Limit u = upstreams.get(clientKey.substring(mark + UPSTREAM_MARK.length()));
      if (u != null) {
        return u;
      }
    }
    return defaultLimit;
  }

  /** The key of a client's bucket for requests to {@code upstream} (one with a default limit of its own). */
  public static String scoped(String clientKey, String upstream) {
    return clientKey + UPSTREAM_MARK + upstream;
  }

  /** Whether the client has a limit of its own (API or configuration), which holds across every upstream. */
  public boolean hasOwnLimit(String clientKey) {
    return api.containsKey(clientKey) || config.containsKey(clientKey);
  }

  /** Replaces the upstreams' own default limits (start, reload). */
  public synchronized void upstreamDefaults(Map<String, Limit> next) {
    if (!next.equals(upstreamDefaults)) {
      upstreamDefaults = Map.copyOf(next);
      version++;
    }
  }

  /** A client's entry from the API or the configuration, or null when only the default applies. */
  public @Nullable ClientLimit find(String clientId) {
    String id = ClientIds.normalize(clientId);
    Limit l = api.get(id);
    if (l != null) {
      return new ClientLimit(id, l, LimitSource.API);
    }
    l = config.get(id);
    return l != null ? new ClientLimit(id, l, LimitSource.CONFIG) : null;
  }

  /** Whether the store has an entry for this client. */
  public boolean hasApiEntry(String clientId) {
    return api.containsKey(ClientIds.normalize(clientId));
  }

  /** Every client with an entry, sorted by id: store entries, then configuration entries they do not override. */
  public List<ClientLimit> list() {
    Map<String, Limit> current = api;
    Map<String, Limit> configured = config;
    List<ClientLimit> out = new ArrayList<>(current.size() + configured.size());
    current.forEach((id, l) -> out.add(new ClientLimit(id, l, LimitSource.API)));
    configured.forEach((id, l) -> {
      if (!current.containsKey(id)) {
        out.add(new ClientLimit(id, l, LimitSource.CONFIG));
      }
    });
    out.sort(Comparator.comparing(ClientLimit::clientId));
    return out;
  }

  /** The store's entries as last read: replaces them all. */
  public synchronized void replaceApi(Map<String, Limit> entries) {
    Map<String, Limit> normalised = new HashMap<>();
    entries.forEach((id, limit) -> normalised.put(ClientIds.normalize(id), limit));
    if (!normalised.equals(api)) {
      api = Map.copyOf(normalised);
      version++;
    }
  }

  /** One store entry set through this replica. */
  public synchronized void putApi(String clientId, Limit limit) {
    Map<String, Limit> next = new HashMap<>(api);
    next.put(ClientIds.normalize(clientId), limit);
    api = Map.copyOf(next);
    version++;
  }

  /** One store entry removed through this replica. */
  public synchronized void removeApi(String clientId) {
    Map<String, Limit> next = new HashMap<>(api);
    if (next.remove(ClientIds.normalize(clientId)) != null) {
      api = Map.copyOf(next);
      version++;
    }
  }

  /** Ids of the clients the store knows. */
  public java.util.Set<String> apiClients() {
    return api.keySet();
  }
}
