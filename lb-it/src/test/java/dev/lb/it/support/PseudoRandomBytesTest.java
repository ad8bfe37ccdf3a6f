package dev.lb.it.support;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PseudoRandomBytesTest {

  @Test
  void theStreamDoesNotDependOnHowItIsReadInPieces() {
    byte[] whole = new byte[10_000];
    new PseudoRandomBytes(42).nextBytes(whole, 0, whole.length);

    byte[] pieces = new byte[whole.length];
    PseudoRandomBytes source = new PseudoRandomBytes(42);
    int offset = 0;
    for (int size = 1; offset < pieces.length; size = size % 13 + 1) {
      int length = Math.min(size, pieces.length - offset);
      source.nextBytes(pieces, offset, length);
      offset += length;
    }

    assertThat(pieces).isEqualTo(whole);
  }

  @Test
  void sha256MatchesTheBytes() {
    byte[] bytes = new byte[200_003];
    new PseudoRandomBytes(5).nextBytes(bytes, 0, bytes.length);

    assertThat(PseudoRandomBytes.sha256(bytes.length, 5)).isEqualTo(Digests.sha256Hex(bytes));
    assertThat(PseudoRandomBytes.sha256(0, 5)).isEqualTo(Digests.sha256Hex(new byte[0]));
  }

  @Test
  void seedsGiveDifferentStreamsAndZeroIsAValidSeed() {
    assertThat(PseudoRandomBytes.sha256(1024, 0)).isNotEqualTo(PseudoRandomBytes.sha256(1024, 1));
    byte[] zeroSeed = new byte[64];
    new PseudoRandomBytes(0).nextBytes(zeroSeed, 0, zeroSeed.length);
    assertThat(zeroSeed).isNotEqualTo(new byte[64]);
  }
}
