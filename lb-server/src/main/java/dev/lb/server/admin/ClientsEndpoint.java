package dev.lb.server.admin;

import static java.util.Objects.requireNonNull;

import dev.lb.ratelimit.ClientLimit;
import dev.lb.ratelimit.LimitSource;
import dev.lb.server.limits.ClientLimits;
import dev.lb.server.limits.RateLimitingOffException;
import dev.lb.server.limits.StoreUnavailableException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jspecify.annotations.Nullable;

/**
 * The {@code /clients} API: per-client rate limits, read from and written to a {@link ClientLimits}.
 *
 * <ul>
 *   <li>{@code GET /clients}: 200, every client with an entry, sorted by id.
 *   <li>{@code GET /clients/{client_id}}: 200 the client; 404 when only the default limit applies to it.
 *   <li>{@code POST /clients}: 201 with the client and a {@code Location}; 409 when it already has an API entry (a
 *       client with only a configuration entry may be created: the API entry overrides it).
 *   <li>{@code PUT /clients/{client_id}}: 200 when an API entry was replaced, 201 (with {@code Location}) when one was
 *       created.
 *   <li>{@code DELETE /clients/{client_id}}: 204; 404 when the client has no API entry, saying so when its entry is
 *       in the configuration (which the API cannot remove).
 * </ul>
 *
 * <p>Every route is {@link Access#MANAGEMENT} and blocking (writes go to the store). Client ids arrive
 * percent-decoded by the router and are compared normalised ({@code 0:0:0:0:0:0:0:1} is {@code ::1}); answers show
 * them normalised. A bad body or id is 400 naming each bad field ({@link ClientBody}); a write the store refuses is
 * 503 {@code Store unavailable: <cause>}; a write while rate limiting is off is 409, saying how to turn it on;
 * anything else a {@link ClientLimits} throws is left to the dispatcher (500).
 */
public final class ClientsEndpoint {
  private static final Logger LOG = LogManager.getLogger(ClientsEndpoint.class);

  static final String COLLECTION = "/clients";
  static final String PARAM = "client_id";
  static final String ITEM = COLLECTION + "/{" + PARAM + "}";

  private static final int MAX_CAUSE_LENGTH = 300;
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private final ClientLimits limits;

  private ClientsEndpoint(ClientLimits limits) {
    this.limits = limits;
  }

  /** One client as the API shows it: {@code {"client_id","capacity","rate_per_sec","source"}}. */
  public record View(String clientId, long capacity, double ratePerSec, String source) {
    static View of(ClientLimit c) {
      return new View(c.clientId(), c.limit().capacity(), c.limit().ratePerSec(), c.source().key());
    }
  }

  /**
   * Adds the five {@code /clients} routes to {@code routes}.
   *
   * @param limits the service the routes read and write; called on the admin blocking executor
   * @return {@code routes}, for chaining
   */
  public static AdminRouter.Builder register(AdminRouter.Builder routes, ClientLimits limits) {
    requireNonNull(routes, "routes");
    ClientsEndpoint endpoint = new ClientsEndpoint(requireNonNull(limits, "limits"));
    return routes
        .routeBlocking(HttpMethod.GET, COLLECTION, Access.MANAGEMENT, endpoint::list)
        .routeBlocking(HttpMethod.POST, COLLECTION, Access.MANAGEMENT, endpoint::create)
        .routeBlocking(HttpMethod.GET, ITEM, Access.MANAGEMENT, endpoint::get)
        .routeBlocking(HttpMethod.PUT, ITEM, Access.MANAGEMENT, endpoint::put)
        .routeBlocking(HttpMethod.DELETE, ITEM, Access.MANAGEMENT, endpoint::delete);
  }

  private AdminResponse list(AdminRequest request) {
    List<View> views = new ArrayList<>();
    for (ClientLimit c : limits.list()) {
      views.add(View.of(c));
    }
    views.sort(Comparator.comparing(View::clientId));
    return AdminResponse.json(200, views);
  }

  private AdminResponse get(AdminRequest request) {
    String id = ClientBody.pathId(request.pathParam(PARAM));
    ClientLimit client = limits.get(id);
    if (client == null) {
      throw AdminException.notFound("Unknown client: " + id + " (only the default limit applies to it)");
    }
    return AdminResponse.json(200, View.of(client));
  }

  private AdminResponse create(AdminRequest request) {
    ClientBody body = ClientBody.forCreate(request.jsonBody());
    ClientLimit created = write(request, () -> limits.create(body.clientId(), body.limit()));
    if (created == null) {
      throw new AdminException(
          409,
          "Client already exists: " + body.clientId() + " (change it with PUT " + location(body.clientId()) + ")");
    }
    return created(View.of(created));
  }

  private AdminResponse put(AdminRequest request) {
    ClientBody body = ClientBody.forReplace(request.jsonBody(), request.pathParam(PARAM));
    boolean created = write(request, () -> limits.put(body.clientId(), body.limit()));
    View view = View.of(new ClientLimit(body.clientId(), body.limit(), LimitSource.API));
    return created ? created(view) : AdminResponse.json(200, view);
  }

  private AdminResponse delete(AdminRequest request) {
    String id = ClientBody.pathId(request.pathParam(PARAM));
    if (write(request, () -> limits.delete(id))) {
      return AdminResponse.noContent();
    }
    ClientLimit left = limits.get(id);
    if (left != null && left.source() == LimitSource.CONFIG) {
      throw AdminException.notFound(
          "Client " + id + " is set in the configuration (rate_limit.clients), which the API cannot delete");
    }
    throw AdminException.notFound("Unknown client: " + id + " (it has no entry set through the API)");
  }

  private static AdminResponse created(View view) {
    return AdminResponse.json(201, view).withHeader(HttpHeaderNames.LOCATION.toString(), location(view.clientId()));
  }

  /**
   * The path of one client: {@code /clients/} and the id percent-encoded as UTF-8, every byte but the unreserved
   * characters of RFC 3986 ({@code A-Z a-z 0-9 - . _ ~}), so {@code user/1} is {@code /clients/user%2F1}.
   */
  static String location(String clientId) {
    StringBuilder out = new StringBuilder(COLLECTION.length() + 1 + clientId.length() * 3);
    out.append(COLLECTION).append('/');
    for (byte b : clientId.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      boolean unreserved =
          (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
              || c == '-' || c == '.' || c == '_' || c == '~';
      if (unreserved) {
        out.append((char) c);
      } else {
        out.append('%').append(HEX[c >> 4]).append(HEX[c & 0xf]);
      }
    }
    return out.toString();
  }

  /** A store write; the only failure it may declare is the store's. */
  @FunctionalInterface
  private interface StoreWrite<T> {
    T run() throws StoreUnavailableException;
  }

  /**
   * Runs a write, turning a store that cannot take it into 503 with the cause on one line, and a write while rate
   * limiting is off into 409.
   */
  private static <T> T write(AdminRequest request, StoreWrite<T> write) {
    try {
      return write.run();
    } catch (RateLimitingOffException e) {
      throw new AdminException(409, "Rate limiting is off: set rate_limit.enabled: true (with a store) and reload "
          + "to manage client limits here; until then, GET /clients lists the limits of the configuration");
    } catch (StoreUnavailableException e) {
      String cause = cause(e);
      LOG.warn("Admin request {} {} answered 503: store unavailable: {}", request.method(), request.path(), cause);
      throw new AdminException(503, "Store unavailable: " + cause);
    }
  }

  /** The exception's message on one line and shortened, or its cause's type when it has none. */
  static String cause(StoreUnavailableException e) {
    @Nullable String message = e.getMessage();
    if (message == null || message.isBlank()) {
      Throwable cause = e.getCause();
      message = cause == null ? "unknown cause" : cause.getClass().getSimpleName();
    }
    String line = message.strip().replaceAll("\\s*\\R\\s*", " ").replaceAll("\\p{Cntrl}", " ");
    return line.length() <= MAX_CAUSE_LENGTH ? line : line.substring(0, MAX_CAUSE_LENGTH - 3) + "...";
  }
}
