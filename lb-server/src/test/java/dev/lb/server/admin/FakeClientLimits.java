package dev.lb.server.admin;

import dev.lb.ratelimit.ClientIds;
import dev.lb.ratelimit.ClientLimit;
import dev.lb.ratelimit.Limit;
import dev.lb.ratelimit.LimitSource;
import dev.lb.server.limits.ClientLimits;
import dev.lb.server.limits.StoreUnavailableException;
import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * An in-memory {@link ClientLimits}: configuration entries given at construction, API entries in a map. Writes can be
 * made to fail as a store outage would ({@link #storeDown}) or with an unexpected exception ({@link #failWith}); the
 * ids writes were called with are recorded. Thread-safe, for the socket tests.
 */
final class FakeClientLimits implements ClientLimits {
  private final Map<String, Limit> config = new TreeMap<>();
  private final Map<String, Limit> api = new TreeMap<>();
  private final List<String> writtenIds = new ArrayList<>();
  private @Nullable String storeDown;
  private @Nullable RuntimeException failure;

  FakeClientLimits(Map<String, Limit> config) {
    config.forEach((id, limit) -> this.config.put(ClientIds.normalize(id), limit));
  }

  /** Makes every later write throw {@link StoreUnavailableException} with this message; null heals the store. */
  synchronized void storeDown(@Nullable String message) {
    this.storeDown = message;
  }

  /** Makes every later call, read or write, throw this; null stops it. */
  synchronized void failWith(@Nullable RuntimeException failure) {
    this.failure = failure;
  }

  /** Sets an API entry directly, as another replica would. */
  synchronized void putApi(String clientId, Limit limit) {
    api.put(ClientIds.normalize(clientId), limit);
  }

  /** The ids the writes were called with, in order. */
  synchronized List<String> writtenIds() {
    return List.copyOf(writtenIds);
  }

  synchronized Map<String, Limit> apiEntries() {
    return Map.copyOf(api);
  }

  @Override
  public synchronized List<ClientLimit> list() {
    failIfAsked();
    Map<String, ClientLimit> all = new TreeMap<>();
    config.forEach((id, limit) -> all.put(id, new ClientLimit(id, limit, LimitSource.CONFIG)));
    api.forEach((id, limit) -> all.put(id, new ClientLimit(id, limit, LimitSource.API)));
    return List.copyOf(all.values());
  }

  @Override
  public synchronized @Nullable ClientLimit get(String clientId) {
    failIfAsked();
    String id = ClientIds.normalize(clientId);
    Limit limit = api.get(id);
    if (limit != null) {
      return new ClientLimit(id, limit, LimitSource.API);
    }
    limit = config.get(id);
    return limit == null ? null : new ClientLimit(id, limit, LimitSource.CONFIG);
  }

  @Override
  public synchronized @Nullable ClientLimit create(String clientId, Limit limit) throws StoreUnavailableException {
    String id = beforeWrite(clientId);
    if (api.containsKey(id)) {
      return null;
    }
    api.put(id, limit);
    return new ClientLimit(id, limit, LimitSource.API);
  }

  @Override
  public synchronized boolean put(String clientId, Limit limit) throws StoreUnavailableException {
    String id = beforeWrite(clientId);
    return api.put(id, limit) == null;
  }

  @Override
  public synchronized boolean delete(String clientId) throws StoreUnavailableException {
    String id = beforeWrite(clientId);
    return api.remove(id) != null;
  }

  private String beforeWrite(String clientId) throws StoreUnavailableException {
    writtenIds.add(clientId);
    failIfAsked();
    if (storeDown != null) {
      throw new StoreUnavailableException(storeDown, new ConnectException(storeDown));
    }
    return ClientIds.normalize(clientId);
  }

  private void failIfAsked() {
    if (failure != null) {
      throw failure;
    }
  }
}
