package dev.lb.it.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import org.junit.jupiter.api.Test;

class PortsTest {

  @Test
  void aFreePortCanBeBound() throws Exception {
    int port = Ports.freePort();

    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress("127.0.0.1", port));
      assertThat(socket.getLocalPort()).isEqualTo(port);
    }
  }

  @Test
  void aRefusedPortRefusesConnections() {
    int port = Ports.refusedPort();

    assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class);
  }
}
