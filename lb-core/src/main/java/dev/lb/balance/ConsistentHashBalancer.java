package dev.lb.balance;

import dev.lb.backend.Backend;
import dev.lb.backend.BackendGroup;
import dev.lb.config.KeySource;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * Consistent hashing on a ring with virtual nodes: each backend owns {@value #POINTS_PER_UNIT} points per unit of
 * weight, placed by hashing its URL, and a request goes to the owner of the first point at or after its key's hash.
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

    static Ring of(Backend[] backends) {
      int g = 0;
      long units = 0;
      for (Backend b : backends) {
        g = gcd(g, b.weight());
      }
      if (g == 0) {
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
      long[] hashes = new long[total];
      int[] ownerIndex = new int[total];
      int p = 0;
      for (int i = 0; i < backends.length; i++) {
        String url = backends[i].url();
        int count = perUnit * (backends[i].weight() / g);
        for (int v = 0; v < count; v++) {
          hashes[p] = Hashing.hash(url + '#' + v);
          ownerIndex[p] = i;
          p++;
        }
      }
      Integer[] order = new Integer[total];
      for (int i = 0; i < total; i++) {
        order[i] = i;
      }
      Arrays.sort(order, (a, b) -> {
        int c = Long.compare(hashes[a], hashes[b]);
        return c != 0 ? c : Integer.compare(ownerIndex[a], ownerIndex[b]);
      });
      long[] points = new long[total];
      Backend[] owners = new Backend[total];
      for (int i = 0; i < total; i++) {
        points[i] = hashes[order[i]];
        owners[i] = backends[ownerIndex[order[i]]];
      }
      return new Ring(points, owners);
    }

    int size() {
      return points.length;
    }

    /** The owner of the first point at or after {@code hash} that the request has not tried. */
    @Nullable Backend walk(long hash, PickContext context) {
      int i = Arrays.binarySearch(points, hash);
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

  private static int gcd(int a, int b) {
    while (b != 0) {
      int t = a % b;
      a = b;
      b = t;
    }
    return a;
  }
}
