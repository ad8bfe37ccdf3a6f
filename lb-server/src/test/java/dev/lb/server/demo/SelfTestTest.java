package dev.lb.server.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import org.junit.jupiter.api.Test;

class SelfTestTest {

  @Test
  void nothingListeningFailsTheSelfTestAndSaysWhy() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    URI dead = URI.create("http://127.0.0.1:" + port);
    StringWriter text = new StringWriter();

    boolean passed = new SelfTest(dead, dead, new PrintWriter(text)).run();

    assertThat(passed).isFalse();
    assertThat(text.toString()).contains("FAIL  the demo answers").contains("self-test: 0 of 1 checks passed");
  }
}
