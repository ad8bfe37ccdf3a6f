package dev.lb.stats;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The clients counted most over the last minute, by the space-saving algorithm (Metwally et al.): each of six
 * ten-second slots tracks at most {@link #CAPACITY} clients; a new client arriving at a full slot takes the place of
 * the least counted one and inherits its count, so a client with more than 1/{@code CAPACITY} of a slot's refusals is
 * always there and a count is never under the truth (it may be over by the count it inherited). Held in memory only.
 *
 * <p>Thread-safe: {@link #count} takes a short lock, on the refused requests' path only.
 */
public final class TopClients {
  /** Clients tracked per slot. */
  static final int CAPACITY = 128;
  /** Slots kept, each {@link #SLOT_SECONDS} long. */
  static final int SLOTS = 6;
  static final int SLOT_SECONDS = 10;

  /** A client and its count. */
  public record Entry(String client, long count) {}

  private final List<Map<String, long[]>> slots = new ArrayList<>();
  private int current;

  public TopClients() {
    for (int i = 0; i < SLOTS; i++) {
      slots.add(new HashMap<>());
    }
  }

  /** Counts one for {@code client}. */
  public synchronized void count(String client) {
    Map<String, long[]> slot = slots.get(current);
    long[] n = slot.get(client);
    if (n != null) {
      n[0]++;
      return;
    }
    if (slot.size() < CAPACITY) {
      slot.put(client, new long[] {1});
      return;
    }
    String least = null;
    long[] min = null;
    for (Map.Entry<String, long[]> e : slot.entrySet()) {
      if (min == null || e.getValue()[0] < min[0]) {
        least = e.getKey();
        min = e.getValue();
      }
    }
    slot.remove(least);
    min[0]++;
    slot.put(client, min);
  }

  /** Starts a new slot, dropping the oldest; every {@link #SLOT_SECONDS} seconds, on the sampler. */
  public synchronized void rotate() {
    current = (current + 1) % SLOTS;
    slots.get(current).clear();
  }

  /** The {@code n} clients counted most over the slots kept, most first (ties by name). */
  public synchronized List<Entry> top(int n) {
    Map<String, Long> sum = new HashMap<>();
    for (Map<String, long[]> slot : slots) {
      for (Map.Entry<String, long[]> e : slot.entrySet()) {
        sum.merge(e.getKey(), e.getValue()[0], Long::sum);
      }
    }
    return sum.entrySet().stream()
        .map(e -> new Entry(e.getKey(), e.getValue()))
        .sorted(Comparator.comparingLong(Entry::count).reversed().thenComparing(Entry::client))
        .limit(n)
        .toList();
  }
}
