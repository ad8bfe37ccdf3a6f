package dev.lb.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LatencyHistogramTest {

  @Test
  void bucketsTileTheRangeWithoutGapsOrOverlaps() {
    assertThat(LatencyHistogram.lowerBound(0)).isZero();
    for (int i = 0; i + 1 < LatencyHistogram.BUCKETS; i++) {
      assertThat(LatencyHistogram.upperBound(i)).as("bucket %d", i).isEqualTo(LatencyHistogram.lowerBound(i + 1));
      assertThat(LatencyHistogram.bucket(LatencyHistogram.lowerBound(i))).isEqualTo(i);
      assertThat(LatencyHistogram.bucket(LatencyHistogram.upperBound(i) - 1)).isEqualTo(i);
    }
  }

  @Test
  void everyBucketIsAtMostAnEighthOfItsLowerBoundWide() {
    for (int i = 16; i < LatencyHistogram.BUCKETS - 1; i++) { // the last one takes all that is longer
      long width = LatencyHistogram.upperBound(i) - LatencyHistogram.lowerBound(i);
      assertThat(width * 8).isLessThanOrEqualTo(LatencyHistogram.lowerBound(i));
    }
  }

  @Test
  void negativeAndHugeDurationsLandInTheEndBuckets() {
    assertThat(LatencyHistogram.bucket(-5)).isZero();
    assertThat(LatencyHistogram.bucket(Long.MAX_VALUE)).isEqualTo(LatencyHistogram.BUCKETS - 1);
  }

  @Test
  void quantilesAreWithinASixteenthOfTheExactOnes() {
    LatencyHistogram h = new LatencyHistogram();
    Random random = new Random(42);
    long[] values = new long[100_000];
    for (int i = 0; i < values.length; i++) {
      // Log-normal around 2 ms, as proxy latencies look.
      values[i] = (long) (Math.exp(random.nextGaussian() * 0.8) * 2_000_000);
      h.record(values[i]);
    }
    java.util.Arrays.sort(values);
    long[] counts = new long[LatencyHistogram.BUCKETS];
    h.snapshot(counts);
    for (double q : new double[] {0.5, 0.95, 0.99}) {
      long exact = values[(int) Math.ceil(q * values.length) - 1];
      long estimate = LatencyHistogram.quantileNanos(counts, q);
      assertThat((double) estimate).as("p%s", q * 100).isCloseTo(exact, within(exact / 16.0 + 1000));
    }
  }

  @Test
  void countsFromManyThreadsAddUpInASnapshot() throws Exception {
    LatencyHistogram h = new LatencyHistogram();
    Thread[] threads = new Thread[6];
    for (int t = 0; t < threads.length; t++) {
      threads[t] = new Thread(() -> {
        for (int i = 0; i < 10_000; i++) {
          h.record(1_000_000);
        }
      });
      threads[t].start();
    }
    for (Thread t : threads) {
      t.join();
    }
    long[] counts = new long[LatencyHistogram.BUCKETS];
    h.snapshot(counts);
    assertThat(counts[LatencyHistogram.bucket(1000)]).isEqualTo(60_000);
    assertThat(java.util.Arrays.stream(counts).sum()).isEqualTo(60_000);
  }

  @Test
  void anEmptyHistogramHasNoQuantile() {
    assertThat(LatencyHistogram.quantileNanos(new long[LatencyHistogram.BUCKETS], 0.99)).isEqualTo(-1);
  }
}
