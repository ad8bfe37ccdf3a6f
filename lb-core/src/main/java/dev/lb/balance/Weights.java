package dev.lb.balance;

import dev.lb.backend.Backend;

/** Arithmetic on backend weights shared by the algorithms that expand weights into a sequence or a ring. */
final class Weights {
  private Weights() {}

  /** The greatest common divisor of the backends' weights; 0 when there are none or every weight is 0. */
  static int commonDivisor(Backend[] backends) {
    int g = 0;
    for (Backend b : backends) {
      int w = b.weight();
      while (w != 0) {
        int t = g % w;
        g = w;
        w = t;
      }
    }
    return g;
  }
}
