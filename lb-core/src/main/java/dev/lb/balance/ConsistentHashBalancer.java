package dev.lb.balance;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendGroup;
import dev.lb.config.KeySource;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * Consistent hashing on a ring with virtual nodes: each backend owns {@value #POINTS_PER_UNIT} points per unit of
 * weight, placed by hashing its URL with the point's number, and a request goes to the owner of the first point at
 * or after its key's hash (positions are 48 bits; backends at most 65,536).
 * The key is the client address, or a header (the client address when the request lacks it). When one of N
 * backends leaves, only the keys it owned move (about 1/N), and they come back when it returns, since the points
 * depend only on each backend's URL. A retry walks on along the ring to the next backend not tried.
 */
public final class ConsistentHashBalancer implements LoadBalancer {
  /** Points per unit of weight; 160 per server is what ketama uses, and keeps loads within a few percent. */
  static final int POINTS_PER_UNIT = 160;
  /** Upper bound on a ring's points, whatever the weights. */
  static final int MAX_POINTS = 1 << 20;

  private final KeySource key;

  public ConsistentHashBalancer(KeySource key) {
    this.key = key;
  }

  @Override
  public Picker picker(BackendGroup group) {
    Ring ring = Ring.of(group.available());
    if (ring.size() == 0) {
      return context -> null;
    }
    String header = key.header();
    return context -> {
      CharSequence k = header == null ? null : context.header(header);
      if (k == null) {
        k = context.clientAddress();
      }
      return ring.walk(Hashing.hash(k), context);
    };
  }

  /** Sorted points and their owners. Immutable. */
  static final class Ring {
    private final long[] points;
    private final Backend[] owners;

    private Ring(long[] points, Backend[] owners) {
      this.points = points;
      this.owners = owners;
    }

    /** Low bits of each point that carry its owner's index; the high 48 bits are the position on the ring. */
    private static final int OWNER_BITS = 16;
    private static final long OWNER_MASK = (1L << OWNER_BITS) - 1;

    static Ring of(Backend[] backends) {
      int g = Weights.commonDivisor(backends);
      long units = 0;
      if (g == 0 || backends.length > OWNER_MASK + 1) {
        return new Ring(new long[0], new Backend[0]);
      }
      for (Backend b : backends) {
        units += b.weight() / g;
      }
      int perUnit = (int) Math.max(1, Math.min(POINTS_PER_UNIT, MAX_POINTS / units));
      int total = 0;
      for (Backend b : backends) {
        total += perUnit * (b.weight() / g);
      }
      // Points are sorted as primitives: position in the high bits, owner in the low bits (ties fall to the owner
      // listed first, as before), so building a ring boxes nothing.
      long[] points = new long[total];
      int p = 0;
      for (int i = 0; i < backends.length; i++) {
        long base = Hashing.hash(backends[i].url());
        int count = perUnit * (backends[i].weight() / g);
        for (int v = 0; v < count; v++) {
          long position = Hashing.mix(base + 0x9E3779B97F4A7C15L * (v + 1));
          points[p++] = (position & ~OWNER_MASK) | i;
        }
      }
      java.util.Arrays.sort(points);
      Backend[] owners = new Backend[total];
      for (int i = 0; i < total; i++) {
        owners[i] = backends[(int) (points[i] & OWNER_MASK)];
      }
      return new Ring(points, owners);
    }

    int size() {
      return points.length;
    }

    /** The owner of the first point at or after {@code hash} that the request has not tried. */
    @Nullable Backend walk(long hash, PickContext context) {
      int i = Arrays.binarySearch(points, hash & ~OWNER_MASK);
      if (i < 0) {
        i = -i - 1;
      }
      int n = points.length;
      Backend previous = null;
      for (int step = 0; step < n; step++) {
        Backend owner = owners[(i + step) % n];
        if (owner != previous) {
          if (!context.tried(owner)) {
            return owner;
          }
          previous = owner;
        }
      }
      return null;
    }
  }
}
