package dev.lb.it.support;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

/**
 * Whether a backend connection reads from its socket. Several reasons can each stop reading; it resumes only when
 * none is left. Lives in a channel attribute; used only on the channel's event loop.
 */
final class ReadGate {
  /** Why reading stopped. */
  enum Reason {
    /** The test called {@link TestBackend#pauseReading()}. */
    PAUSED,
    /** Pipelined requests wait their turn; reading more would only queue more. */
    QUEUED,
    /** The channel is not writable: the peer does not read what it gets. */
    BACKPRESSURE
  }

  private static final AttributeKey<ReadGate> KEY = AttributeKey.valueOf(ReadGate.class, "gate");

  private final Channel channel;
  private int closedBy;

  private ReadGate(Channel channel) {
    this.channel = channel;
  }

  /** Creates the gate of a new channel. */
  static ReadGate install(Channel channel) {
    ReadGate gate = new ReadGate(channel);
    channel.attr(KEY).set(gate);
    return gate;
  }

  static ReadGate of(Channel channel) {
    ReadGate gate = channel.attr(KEY).get();
    if (gate == null) {
      throw new IllegalStateException("no read gate on " + channel);
    }
    return gate;
  }

  /** Stops reading for {@code reason} when {@code closed}, else lifts that reason. */
  void set(Reason reason, boolean closed) {
    int bit = 1 << reason.ordinal();
    int next = closed ? closedBy | bit : closedBy & ~bit;
    if (next != closedBy) {
      closedBy = next;
      // setAutoRead(true) also issues a read, so a lifted gate resumes by itself.
      channel.config().setAutoRead(next == 0);
    }
  }
}
