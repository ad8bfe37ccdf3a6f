package dev.lb.proxy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.lb.testing.LeakFailExtension;

/**
 * Fuzzes lb's client pipeline with arbitrary bytes in arbitrary reads, against embedded backends that answer in
 * arbitrary ways (see {@link FrontendHarness} for the input layout and the invariants checked).
 *
 * <p>In a normal build this runs in regression mode: each input under
 * {@code src/test/resources/dev/lb/proxy/FrontendFuzzTestInputs/frontend/} once (a small seed corpus with request
 * smuggling attempts among them, and every input a fuzzing session found to break an invariant). With
 * {@code JAZZER_FUZZ=1} it fuzzes for {@code maxDuration} (CI does, see {@code .ci/run}).
 */
class FrontendFuzzTest {
  private static long runs;

  @FuzzTest(maxDuration = "60s")
  void frontend(byte[] input) {
    FrontendHarness.run(input);
    // Buffers allocated outside the channels (error bodies, headers) are only seen by the leak detector, which needs
    // the collector: while fuzzing, look every few thousand inputs (a regression run looks after each input).
    if (++runs % 5_000 == 0) {
      LeakFailExtension.check("fuzz input " + runs + " or one shortly before");
    }
  }
}
