package dev.lb.discovery;

import java.util.List;

/**
 * What one resolution of a name came to.
 *
 * @param kind answer, negative answer or failure
 * @param items what the answer names (addresses, services, members); empty unless {@link Kind#ANSWER}
 * @param ttlSeconds the smallest TTL among the records the items came from; 0 unless {@link Kind#ANSWER}
 * @param detail why there are no items: {@code NXDOMAIN}, {@code no records}, {@code timeout}, {@code SERVFAIL}...;
 *     empty for an answer
 */
record Outcome<T>(Kind kind, List<T> items, long ttlSeconds, String detail) {

  enum Kind {
    /** Records were there: {@code items} is not empty. */
    ANSWER,
    /** The name server answered that there is nothing: NXDOMAIN, or NOERROR without records of the type. */
    NEGATIVE,
    /** No usable answer: a timeout, a network error, SERVFAIL, REFUSED, a malformed answer. */
    FAILURE
  }

  static final String NXDOMAIN = "NXDOMAIN";
  static final String NO_RECORDS = "no records";

  Outcome {
    items = List.copyOf(items);
  }

  static <T> Outcome<T> answer(List<T> items, long ttlSeconds) {
    return new Outcome<>(Kind.ANSWER, items, ttlSeconds, "");
  }

  static <T> Outcome<T> negative(String detail) {
    return new Outcome<>(Kind.NEGATIVE, List.of(), 0, detail);
  }

  static <T> Outcome<T> failure(String detail) {
    return new Outcome<>(Kind.FAILURE, List.of(), 0, detail);
  }

  /** This negative answer or failure as an outcome of another item type. */
  <U> Outcome<U> withoutItems() {
    if (kind == Kind.ANSWER) {
      throw new IllegalStateException("an answer has items");
    }
    return new Outcome<>(kind, List.of(), 0, detail);
  }

  /**
   * The outcomes of several queries for one thing (A and AAAA of a name) as one: the first failure if any failed (a
   * partial answer would drop members that exist); else every item, with the smallest TTL; else negative, NXDOMAIN
   * if any said so.
   */
  static <T> Outcome<T> union(List<Outcome<T>> parts) {
    List<T> items = new java.util.ArrayList<>();
    long ttl = Long.MAX_VALUE;
    String negative = NO_RECORDS;
    for (Outcome<T> part : parts) {
      switch (part.kind) {
        case FAILURE -> {
          return part;
        }
        case ANSWER -> {
          items.addAll(part.items);
          ttl = Math.min(ttl, part.ttlSeconds);
        }
        case NEGATIVE -> negative = NXDOMAIN.equals(part.detail) ? NXDOMAIN : negative;
      }
    }
    return items.isEmpty() ? negative(negative) : answer(items, ttl);
  }
}
