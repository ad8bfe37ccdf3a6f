package dev.lb.config;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as written in the configuration: a number and a unit, {@code ms}, {@code s}, {@code m} or {@code h}, such
 * as {@code 250ms}, {@code 2s}, {@code 1.5s}, {@code 1m}. {@code 0} alone means zero. Negative durations do not exist.
 */
public final class Durations {
  private static final Pattern SYNTAX = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)(ms|s|m|h)");
  private static final long NANOS_PER_MS = 1_000_000L;
  private static final long NANOS_PER_S = 1_000_000_000L;
  private static final long NANOS_PER_M = 60 * NANOS_PER_S;
  private static final long NANOS_PER_H = 60 * NANOS_PER_M;
  // Long enough for any number that can fit a duration in nanoseconds, short enough to keep BigDecimal cheap.
  private static final int MAX_LENGTH = 40;

  private Durations() {}

  /**
   * Parses {@code <number><unit>}, or {@code 0}.
   *
   * @throws IllegalArgumentException if the text is not a duration, is finer than a nanosecond, or is longer than
   *     {@link Long#MAX_VALUE} nanoseconds (about 292 years: every duration fits {@link Duration#toNanos()})
   */
  public static Duration parse(String text) {
    if (text.equals("0")) {
      return Duration.ZERO;
    }
    Matcher m = SYNTAX.matcher(text);
    if (text.length() > MAX_LENGTH || !m.matches()) {
      throw new IllegalArgumentException("not a duration such as 250ms, 2s, 1m: " + text);
    }
    BigDecimal nanos = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unitNanos(m.group(2))));
    BigInteger whole;
    try {
      whole = nanos.toBigIntegerExact();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("finer than a nanosecond: " + text, e);
    }
    if (whole.bitLength() > 63) {
      throw new IllegalArgumentException("too long a duration: " + text);
    }
    return Duration.ofNanos(whole.longValue());
  }

  /**
   * The form {@link #parse} reads back to the same duration: a whole number of the largest unit that fits exactly
   * ({@code 250ms}, {@code 2s}, {@code 90s}, {@code 1m}, {@code 1h}), {@code 0s} for zero, and decimal milliseconds
   * below a millisecond's precision ({@code 1.5ms}).
   *
   * @throws IllegalArgumentException for a negative duration, which the configuration cannot express
   */
  public static String format(Duration duration) {
    if (duration.isNegative()) {
      throw new IllegalArgumentException("negative duration: " + duration);
    }
    BigInteger nanos =
        BigInteger.valueOf(duration.getSeconds())
            .multiply(BigInteger.valueOf(NANOS_PER_S))
            .add(BigInteger.valueOf(duration.getNano()));
    if (nanos.signum() == 0) {
      return "0s";
    }
    for (String unit : new String[] {"h", "m", "s", "ms"}) {
      BigInteger[] qr = nanos.divideAndRemainder(BigInteger.valueOf(unitNanos(unit)));
      if (qr[1].signum() == 0) {
        return qr[0] + unit;
      }
    }
    return new BigDecimal(nanos).movePointLeft(6).stripTrailingZeros().toPlainString() + "ms";
  }

  private static long unitNanos(String unit) {
    return switch (unit) {
      case "ms" -> NANOS_PER_MS;
      case "s" -> NANOS_PER_S;
      case "m" -> NANOS_PER_M;
      case "h" -> NANOS_PER_H;
      default -> throw new IllegalArgumentException("unknown unit " + unit);
    };
  }
}
