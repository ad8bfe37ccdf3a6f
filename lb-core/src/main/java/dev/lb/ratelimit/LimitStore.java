package dev.lb.ratelimit;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Where per-client limits set through the API are kept, shared by every replica that points at the same database,
 * and where bucket levels are saved across a restart. Every method blocks: call them off the event loops (lb runs
 * them on one store thread). Implementations are thread-safe.
 */
public interface LimitStore extends AutoCloseable {

  /** Every client's limit, by client id. */
  Map<String, Limit> loadAll() throws StoreException;

  /**
   * A number that changes whenever any client's limit changes, by any replica: cheap to read, so that a replica
   * polls it and reloads only after a change.
   */
  long version() throws StoreException;

  /** One client's limit, or null. */
  @Nullable Limit get(String clientId) throws StoreException;

  /**
   * Adds a client.
   *
   * @return false (and changes nothing) when the client already has a limit
   */
  boolean insert(String clientId, Limit limit) throws StoreException;

  /**
   * Sets a client's limit.
   *
   * @return true when the client was created, false when an existing limit was replaced
   */
  boolean upsert(String clientId, Limit limit) throws StoreException;

  /**
   * Removes a client's limit.
   *
   * @return false when the client had none
   */
  boolean delete(String clientId) throws StoreException;

  /** Saves bucket levels, replacing earlier ones of the same clients. */
  void saveLevels(Collection<BucketLevel> levels) throws StoreException;

  /** The saved bucket levels. */
  List<BucketLevel> loadLevels() throws StoreException;

  @Override
  void close();
}
