package dev.lb.testing;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;

/** What handlers under test wrote on an {@link EmbeddedChannel}. */
public final class Outbound {
  private Outbound() {}

  /** Every buffer written so far, as ASCII text, each released once read. */
  public static String drain(EmbeddedChannel ch) {
    StringBuilder sb = new StringBuilder();
    for (Object m; (m = ch.readOutbound()) != null; ) {
      ByteBuf b = (ByteBuf) m;
      sb.append(b.toString(US_ASCII));
      b.release();
    }
    return sb.toString();
  }
}
