package dev.lb.config;

import org.jspecify.annotations.Nullable;

/**
 * Where a per-request key comes from: the client address, or a request header (falling back to the client address
 * when the header is missing). Written {@code client_ip} / {@code ip} or {@code header:NAME} in the configuration.
 *
 * @param header the header name, or null for the client address
 */
public record KeySource(@Nullable String header) {
  public static final KeySource CLIENT_ADDRESS = new KeySource(null);

  public boolean isHeader() {
    return header != null;
  }

  /** {@code the client address} or {@code header NAME}, for logs. */
  public String describe() {
    return header == null ? "client address" : "header " + header;
  }
}
