package dev.lb.config;

import io.netty.util.NetUtil;
import org.jspecify.annotations.Nullable;

/**
 * IP address literals between text and bytes, on the text alone: nothing here resolves a name. Backends and the rate
 * limiter's client keys and CIDRs read addresses through it, so that those plain-Java packages agree on what an
 * address is and how it is written without naming Netty, whose parser this is.
 */
public final class IpAddresses {
  private IpAddresses() {}

  /** The 4 or 16 bytes of an IPv4 or IPv6 literal, or null when {@code text} is not one. */
  public static byte @Nullable [] bytes(String text) {
    return NetUtil.createByteArrayFromIpAddressString(text);
  }

  /** The canonical text of a 4- or 16-byte address: {@code ::1}, not {@code 0:0:0:0:0:0:0:1}. */
  public static String text(byte[] address) {
    return NetUtil.bytesToIpAddress(address);
  }
}
