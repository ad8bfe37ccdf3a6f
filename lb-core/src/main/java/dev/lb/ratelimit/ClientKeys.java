package dev.lb.ratelimit;

import static java.util.Objects.requireNonNull;

import dev.lb.config.IpAddresses;
import dev.lb.config.KeySource;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Who a request's client is, for rate limiting:
 *
 * <ul>
 *   <li>{@code ip}: the TCP peer's address; when the peer is a trusted proxy, the right-most address of
 *       {@code X-Forwarded-For} that is not itself a trusted proxy (every hop a trusted proxy: the left-most). A
 *       spoofed {@code X-Forwarded-For} from an untrusted peer is ignored, and so is one that does not parse.
 *   <li>{@code header:NAME}: that header's value (trimmed, 1 to 512 characters), else as {@code ip}.
 * </ul>
 *
 * Addresses are written in canonical form ({@link ClientIds#normalize}), so IPv6 spellings agree.
 */
public final class ClientKeys {
  private static final String X_FORWARDED_FOR = "x-forwarded-for";

  /**
   * The headers of one request as the key reads them, so that keys need no HTTP library: the pipeline handler adapts
   * its own header type. Names are matched ignoring case.
   */
  public interface Headers {
    /** The first value of the header, or null when it is absent. */
    @Nullable String get(String name);

    /** Every value of the header, in order; empty when it is absent. */
    List<String> getAll(String name);
  }

  private final @Nullable String header;
  private final CidrSet trusted;

  public ClientKeys(KeySource source, CidrSet trusted) {
    this.header = requireNonNull(source, "source").header();
    this.trusted = requireNonNull(trusted, "trusted");
  }

  /** Whether the key may depend on request headers; when not, it is the peer's address for the whole connection. */
  public boolean perRequest(byte[] peer) {
    return header != null || trusted.contains(peer);
  }

  /**
   * The client key of a request.
   *
   * @param peer the TCP peer's address bytes
   * @param peerKey the same address in canonical text form
   */
  public String keyOf(byte[] peer, String peerKey, Headers headers) {
    if (header != null) {
      String value = headers.get(header);
      if (value != null) {
        value = value.trim();
        if (!value.isEmpty() && value.length() <= ClientIds.MAX_LENGTH) {
          return value;
        }
      }
    }
    if (!trusted.contains(peer)) {
      return peerKey;
    }
    String forwarded = forwardedClient(headers.getAll(X_FORWARDED_FOR));
    return forwarded != null ? forwarded : peerKey;
  }

  /**
   * The right-most untrusted hop of {@code X-Forwarded-For} (all trusted: the left-most); null when it does not parse.
   * Only the address returned is turned into text.
   */
  private @Nullable String forwardedClient(List<String> values) {
    byte[] leftmost = null;
    for (int v = values.size() - 1; v >= 0; v--) {
      String value = values.get(v);
      int end = value.length();
      while (end > 0) {
        int comma = value.lastIndexOf(',', end - 1);
        int from = comma + 1;
        int to = end;
        end = comma < 0 ? 0 : comma;
        while (from < to && value.charAt(from) <= ' ') {
          from++;
        }
        while (to > from && value.charAt(to - 1) <= ' ') {
          to--;
        }
        if (from == to) {
          continue;
        }
        byte[] bytes = parse(value.substring(from, to));
        if (bytes == null) {
          return null;
        }
        if (!trusted.contains(bytes)) {
          return IpAddresses.text(ClientIds.mappedToV4(bytes));
        }
        leftmost = bytes;
      }
    }
    return leftmost == null ? null : IpAddresses.text(ClientIds.mappedToV4(leftmost));
  }

  /** An address from a forwarding header: {@code 1.2.3.4}, {@code 1.2.3.4:5678}, {@code ::1}, {@code [::1]:80}. */
  static byte @Nullable [] parse(String hop) {
    byte[] bytes = IpAddresses.bytes(hop);
    if (bytes != null) {
      return bytes;
    }
    if (hop.startsWith("[")) {
      int close = hop.indexOf(']');
      return close < 0 ? null : IpAddresses.bytes(hop.substring(1, close));
    }
    int colon = hop.indexOf(':');
    if (colon > 0 && hop.indexOf(':', colon + 1) < 0) {
      return IpAddresses.bytes(hop.substring(0, colon));
    }
    return null;
  }
}
