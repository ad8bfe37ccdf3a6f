package dev.lb.server.limits;

import dev.lb.ratelimit.ClientLimit;
import dev.lb.ratelimit.Limit;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What the {@code /clients} API reads and changes. Reads come from memory (the registry: what is enforced now);
 * writes go to the store first and are enforced by this replica at once, by others within {@code poll_interval}.
 * Writes block: call them off the event loops.
 */
public interface ClientLimits {

  /** Every client with an entry, from the API or the configuration, sorted by id. */
  List<ClientLimit> list();

  /** One client's entry, or null when only the default applies to it. */
  @Nullable ClientLimit get(String clientId);

  /**
   * Adds an API entry.
   *
   * @return the entry, or null when the client already has an API entry (nothing changed)
   * @throws StoreUnavailableException when the store cannot be written
   */
  @Nullable ClientLimit create(String clientId, Limit limit) throws StoreUnavailableException;

  /**
   * Sets a client's API entry.
   *
   * @return whether it was created (else replaced)
   * @throws StoreUnavailableException when the store cannot be written
   */
  boolean put(String clientId, Limit limit) throws StoreUnavailableException;

  /**
   * Removes a client's API entry (a configuration entry, if any, applies again).
   *
   * @return false when the client had no API entry
   * @throws StoreUnavailableException when the store cannot be written
   */
  boolean delete(String clientId) throws StoreUnavailableException;
}
