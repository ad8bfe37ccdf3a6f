package dev.lb.it.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;

/** Reads a response body to its end at a {@link Throttle}d pace, hashing all of it and keeping its start. */
final class BodySink {
  private final MessageDigest digest = Digests.sha256();
  private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
  private long bytes;
  private String sha256 = "";

  /** Consumes {@code body} to its end. */
  static BodySink drain(InputStream body, Throttle throttle) throws IOException {
    BodySink sink = new BodySink();
    byte[] step = new byte[throttle.bytesPerStep()];
    while (true) {
      int filled = 0;
      while (filled < step.length) {
        int n = body.read(step, filled, step.length - filled);
        if (n < 0) {
          break;
        }
        filled += n;
      }
      sink.accept(step, filled);
      if (filled < step.length) {
        break;
      }
      throttle.pauseStep();
    }
    sink.sha256 = Digests.hex(sink.digest);
    return sink;
  }

  private void accept(byte[] data, int length) {
    digest.update(data, 0, length);
    bytes += length;
    int keep = Math.min(length, Transfer.KEPT_BYTES - kept.size());
    if (keep > 0) {
      kept.write(data, 0, keep);
    }
  }

  long bytes() {
    return bytes;
  }

  String sha256() {
    return sha256;
  }

  byte[] kept() {
    return kept.toByteArray();
  }
}
