package dev.lb.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reading the inherited dispositions, and what lb says about a signal it cannot handle. */
class SignalsTest {
  private static final String STATUS = "Name:\tjava\nState:\tS (sleeping)\nSigQ:\t0/95432\n"
      + "SigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t0000000000000000\n"
      + "SigIgn:\t0000000000000007\nSigCgt:\t0000000000004000\n";

  @Test
  void theIgnoredMaskIsReadFromProcStatus() {
    long mask = Signals.ignoredMask(STATUS);
    assertThat(mask).isEqualTo(7);
    assertThat(Signals.ignored(mask, 1)).as("HUP, as under nohup").isTrue();
    assertThat(Signals.ignored(mask, 2)).as("INT").isTrue();
    assertThat(Signals.ignored(mask, 15)).as("TERM").isFalse();
    assertThat(Signals.ignored(Signals.ignoredMask(STATUS.replace("0000000000000007", "0000000000000006")), 1))
        .as("a background job of a script: INT and QUIT only").isFalse();
    assertThat(Signals.ignoredMask("Name:\tjava\n")).as("no SigIgn line: nothing known").isZero();
    assertThat(Signals.ignored(-1L, 64)).isTrue();
    assertThat(Signals.ignored(-1L, 0)).isFalse();
  }

  @Test
  void thisProcessReadsItsOwnDispositions() {
    // Whatever this JVM inherited, reading them works on Linux and never fails elsewhere.
    long mask = Signals.ignoredAtStart();
    assertThat(Signals.ignored(mask, 9)).as("SIGKILL cannot be ignored").isFalse();
  }

  @Test
  void eachSignalNotHandledGetsOneWarningSayingWhatToDoInstead() {
    assertThat(Signals.warnings(states(Signals.DRAIN, Signals.IGNORED, Signals.IGNORED), true)).satisfiesExactly(
        interrupt -> assertThat(interrupt)
            .startsWith("SIGINT is ignored in this process: it was ignored when lb started (a background job of a"
                + " script gets that), so Ctrl-C and kill -INT will not stop lb: stop it with SIGTERM")
            .endsWith("env --default-signal=HUP,INT java -jar lb.jar ... (coreutils 8.31+)"),
        hangup -> assertThat(hangup)
            .startsWith("SIGHUP is ignored in this process: it was ignored when lb started (nohup does that), so"
                + " kill -HUP will not reload the configuration: reload with POST /reload on the admin listener,"
                + " or set config.watch: true")
            .endsWith("env --default-signal=HUP,INT java -jar lb.jar ... (coreutils 8.31+)"));
  }

  @Test
  void withoutAFileAnIgnoredHangupIsNotWorthAWarning() {
    assertThat(Signals.warnings(states(Signals.DRAIN, Signals.DRAIN, Signals.IGNORED), false)).isEmpty();
    assertThat(Signals.warnings(states(Signals.DRAIN, Signals.DRAIN, Signals.RELOAD), true)).isEmpty();
  }

  @Test
  void anIgnoredTermOrASignalTheJvmKeepsIsNamedToo() {
    assertThat(Signals.warnings(states(Signals.IGNORED, Signals.UNAVAILABLE, Signals.RELOAD), true)).satisfiesExactly(
        term -> assertThat(term).startsWith("SIGTERM is ignored in this process: it was ignored when lb started, so"
            + " kill <pid> and orchestrators will not stop lb (they fall back to SIGKILL, which does not drain):"
            + " stop it with SIGINT").endsWith("env --default-signal=TERM,HUP,INT java -jar lb.jar ... (coreutils 8.31+)"),
        interrupt -> assertThat(interrupt).startsWith("SIGINT cannot be handled in this JVM (it keeps the signal for"
            + " itself, e.g. with -Xrs)"));
  }

  /** What {@link Signals#install} answers: TERM, INT, HUP in that order. */
  private static Map<String, String> states(String term, String interrupt, String hangup) {
    Map<String, String> states = new LinkedHashMap<>();
    states.put("TERM", term);
    states.put("INT", interrupt);
    states.put("HUP", hangup);
    return states;
  }
}
