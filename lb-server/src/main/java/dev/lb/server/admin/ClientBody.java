package dev.lb.server.admin;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lb.ratelimit.ClientIds;
import dev.lb.ratelimit.Limit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The body of {@code POST /clients} and {@code PUT /clients/{client_id}}, read strictly: a JSON object with {@code
 * client_id} (a string), {@code capacity} (a JSON integer, not {@code 1.5}, not {@code "10"}) and {@code rate_per_sec}
 * (a JSON number, fractions allowed), and nothing else. Also checks the {@code client_id} of a path.
 *
 * <p>Every problem is reported, not only the first, as one 400 answer whose message has a line per problem in the
 * configuration's style, {@code field: value (expected: ...)}, joined by {@code "; "}: for instance {@code capacity: 0
 * (expected: an integer from 1 to 1000000000); burst: 5 (expected: one of client_id, capacity, rate_per_sec)}. Values
 * are shown as JSON ({@code "fast"} is a string, {@code 10} a number), {@code (missing)} when absent.
 *
 * @param clientId the client id, normalised ({@link ClientIds#normalize}: {@code 0:0:0:0:0:0:0:1} is {@code ::1})
 * @param limit the limit to set
 */
record ClientBody(String clientId, Limit limit) {
  static final String CLIENT_ID = "client_id";
  static final String CAPACITY = "capacity";
  static final String RATE_PER_SEC = "rate_per_sec";

  static final String EXPECTED_CLIENT_ID = "a client id of 1 to " + ClientIds.MAX_LENGTH + " characters";
  static final String EXPECTED_CAPACITY = "an integer from 1 to " + Limit.MAX_CAPACITY;
  static final String EXPECTED_RATE = "a number above 0";
  static final String EXPECTED_RATE_AT_MOST = "a number above 0, at most " + (long) Limit.MAX_RATE;
  static final String EXPECTED_FIELD = "one of " + CLIENT_ID + ", " + CAPACITY + ", " + RATE_PER_SEC;

  static final String MISSING = "(missing)";
  private static final int MAX_SHOWN = 100;
  private static final Pattern PLAIN_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

  ClientBody {
    requireNonNull(clientId, "clientId");
    requireNonNull(limit, "limit");
  }

  /**
   * Reads the body of {@code POST /clients}, where all three fields are required.
   *
   * @throws AdminException 400 naming every bad, missing or unknown field
   */
  static ClientBody forCreate(JsonNode body) {
    return read(body, null);
  }

  /**
   * Reads the body of {@code PUT /clients/{client_id}}: {@code capacity} and {@code rate_per_sec} are required; a
   * {@code client_id} may be given only if it is the path's (compared normalised, so {@code ::1} equals {@code
   * 0:0:0:0:0:0:0:1}). The result carries the path's client id.
   *
   * @param pathId the decoded {@code {client_id}} of the path
   * @throws AdminException 400 naming every problem, including one with the path's id
   */
  static ClientBody forReplace(JsonNode body, String pathId) {
    return read(body, requireNonNull(pathId, "pathId"));
  }

  /**
   * Checks the decoded {@code {client_id}} of a path and normalises it.
   *
   * @throws AdminException 400 when it is no acceptable client id (too long, control characters)
   */
  static String pathId(String decoded) {
    Problems problems = new Problems();
    String id = checkPathId(decoded, problems);
    problems.throwIfAny();
    return requireNonNull(id, "id");
  }

  private static ClientBody read(JsonNode body, @Nullable String pathId) {
    Problems problems = new Problems();
    String fromPath = pathId == null ? null : checkPathId(pathId, problems);
    if (!body.isObject()) {
      String keys = pathId == null ? CLIENT_ID + ", " + CAPACITY + ", " + RATE_PER_SEC : CAPACITY + ", " + RATE_PER_SEC;
      problems.add("body", render(body), "a JSON object with " + keys);
      throw problems.failure();
    }
    String fromBody = null;
    Long capacity = null;
    Double rate = null;
    for (Map.Entry<String, JsonNode> field : body.properties()) {
      JsonNode value = field.getValue();
      switch (field.getKey()) {
        case CLIENT_ID -> {
          fromBody = clientId(value, problems);
          if (fromPath != null && fromBody != null && !fromBody.equals(fromPath)) {
            problems.add(CLIENT_ID, render(value), "the client id of the path, " + quoted(fromPath));
          }
        }
        case CAPACITY -> capacity = capacity(value, problems);
        case RATE_PER_SEC -> rate = rate(value, problems);
        default -> problems.add(name(field.getKey()), render(value), EXPECTED_FIELD);
      }
    }
    if (pathId == null && !body.has(CLIENT_ID)) {
      problems.add(CLIENT_ID, MISSING, EXPECTED_CLIENT_ID);
    }
    if (!body.has(CAPACITY)) {
      problems.add(CAPACITY, MISSING, EXPECTED_CAPACITY);
    }
    if (!body.has(RATE_PER_SEC)) {
      problems.add(RATE_PER_SEC, MISSING, EXPECTED_RATE);
    }
    problems.throwIfAny();
    String id = pathId == null ? fromBody : fromPath;
    // Each field has been checked against the bounds Limit enforces, so this cannot throw.
    return new ClientBody(requireNonNull(id, "id"), new Limit(requireNonNull(capacity), requireNonNull(rate)));
  }

  private static @Nullable String checkPathId(String decoded, Problems problems) {
    String problem = ClientIds.problem(decoded);
    if (problem != null) {
      problems.add(CLIENT_ID, quoted(decoded), problem);
      return null;
    }
    return ClientIds.normalize(decoded);
  }

  /** The normalised id, or null after recording why the value is none. */
  private static @Nullable String clientId(JsonNode value, Problems problems) {
    if (!value.isTextual()) {
      problems.add(CLIENT_ID, render(value), EXPECTED_CLIENT_ID);
      return null;
    }
    String problem = ClientIds.problem(value.textValue());
    if (problem != null) {
      problems.add(CLIENT_ID, render(value), problem);
      return null;
    }
    return ClientIds.normalize(value.textValue());
  }

  /** A JSON integer within bounds, or null after recording why not. */
  private static @Nullable Long capacity(JsonNode value, Problems problems) {
    if (value.isIntegralNumber() && value.canConvertToLong()) {
      long capacity = value.longValue();
      if (capacity >= 1 && capacity <= Limit.MAX_CAPACITY) {
        return capacity;
      }
    }
    problems.add(CAPACITY, render(value), EXPECTED_CAPACITY);
    return null;
  }

  /** A finite JSON number above 0 and within bounds, or null after recording why not. */
  private static @Nullable Double rate(JsonNode value, Problems problems) {
    if (!value.isNumber()) {
      problems.add(RATE_PER_SEC, render(value), EXPECTED_RATE);
      return null;
    }
    double rate = value.doubleValue();
    if (!(rate > 0)) {
      problems.add(RATE_PER_SEC, render(value), EXPECTED_RATE);
      return null;
    }
    if (!(rate <= Limit.MAX_RATE)) {
      problems.add(RATE_PER_SEC, render(value), EXPECTED_RATE_AT_MOST);
      return null;
    }
    return rate;
  }

  /**
   * A JSON value as shown in a message: compact JSON, shortened past 100 characters. A number too large for a double
   * ({@code 1e400}) is shown as {@code Infinity}, unquoted (Jackson would write it as a string).
   */
  private static String render(JsonNode value) {
    if (value.isFloatingPointNumber() && !Double.isFinite(value.doubleValue())) {
      return String.valueOf(value.doubleValue());
    }
    return shorten(value.toString());
  }

  /** A string as a JSON string, shortened. */
  private static String quoted(String text) {
    return shorten(AdminJson.MAPPER.getNodeFactory().textNode(text).toString());
  }

  /** A field name as shown: as it is when plain, else quoted, so that odd names stay visible. */
  private static String name(String field) {
    return PLAIN_NAME.matcher(field).matches() ? field : quoted(field);
  }

  private static String shorten(String shown) {
    return shown.length() <= MAX_SHOWN ? shown : shown.substring(0, MAX_SHOWN - 3) + "...";
  }

  /** The problems found so far, as message lines. */
  private static final class Problems {
    private final List<String> lines = new ArrayList<>();

    void add(String field, String shownValue, String expected) {
      lines.add(field + ": " + shownValue + " (expected: " + expected + ")");
    }

    void throwIfAny() {
      if (!lines.isEmpty()) {
        throw failure();
      }
    }

    /** The 400 answer listing every problem. */
    AdminException failure() {
      return AdminException.badRequest(String.join("; ", lines));
    }
  }
}
