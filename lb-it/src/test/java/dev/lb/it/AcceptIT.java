package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.config.ConfigLoader;
import dev.lb.config.LbConfig;
import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.RawResponse;
import dev.lb.it.support.TestBackend;
import dev.lb.proxy.ProxyServer;
import dev.lb.transport.Transport;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Where connections are accepted: with SO_REUSEPORT every worker loop has a listening socket of its own on
 * the shared port and serves what it accepts; without it (NIO) one acceptor loop hands connections to the workers.
 * Both serve new connections on every loop, on each transport available here (io_uring, epoll, NIO).
 */
class AcceptIT {
  @AutoClose
  private final TestBackend backend = TestBackend.start("b1");

  static Stream<Transport> transports() {
    return Transport.available().stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void newConnectionsAreAcceptedAndServedOnEveryWorkerLoop(Transport transport) throws Exception {
    LbConfig config = ConfigLoader.parse("""
        listen: { host: 127.0.0.1, port: 0, workers: 2 }
        admin: { host: 127.0.0.1, port: 0 }
        health_check: { enabled: false }
        backends: [ "%s" ]
        """.formatted(backend.url()), Map.of());
    try (ProxyServer proxy = ProxyServer.builder(config).transport(transport).start()) {
      assertThat(proxy.acceptsOnWorkers()).isEqualTo(transport.reusePort());
      assertThat(proxy.listenerCount()).isEqualTo(transport.reusePort() ? 2 : 1);
      Set<Integer> clientPorts = new HashSet<>();
      for (int i = 0; i < 200; i++) {
        try (RawHttpClient client = RawHttpClient.connect(proxy.localAddress().getPort())) {
          RawResponse r = client.send("GET / HTTP/1.1\r\nHost: lb\r\nConnection: close\r\n\r\n").readResponse();
          assertThat(r.status()).isEqualTo(200);
          assertThat(r.bodyString()).isEqualTo("b1");
          clientPorts.add(client.socket().getLocalPort());
        }
      }
      assertThat(clientPorts).hasSize(200);
      assertThat(backend.requests()).isEqualTo(200);
    }
  }
}
