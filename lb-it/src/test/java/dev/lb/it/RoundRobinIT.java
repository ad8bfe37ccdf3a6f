package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.RawResponse;
import dev.lb.it.support.TestBackend;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Round robin over three backends, in exact order, with one and with two event loops. */
class RoundRobinIT {
  private static final List<String> EXPECTED = List.of("b1", "b2", "b3", "b1", "b2", "b3", "b1", "b2", "b3");

  private final List<TestBackend> backends = new ArrayList<>();

  @BeforeEach
  void startBackends() {
    for (String name : List.of("b1", "b2", "b3")) {
      backends.add(TestBackend.start(name));
    }
  }

  @AfterEach
  void closeBackends() {
    backends.forEach(TestBackend::close);
  }

  private Lb startLb(int workers) throws Exception {
    return Lb.builder().workers(workers).backends(backends.toArray(TestBackend[]::new)).start();
  }

  @ParameterizedTest(name = "workers={0}")
  @ValueSource(ints = {1, 2})
  void sequentialRequestsOnOneConnectionGoToEachBackendInTurn(int workers) throws Exception {
    try (Lb lb = startLb(workers); RawHttpClient client = RawHttpClient.connect(lb.port())) {
      List<String> names = new ArrayList<>();
      for (int i = 0; i < EXPECTED.size(); i++) {
        names.add(bodyOf(client.get("/").readResponse()));
      }

      assertThat(names).containsExactlyElementsOf(EXPECTED);
    }
    assertThat(backends).allSatisfy(b -> assertThat(b.requests()).isEqualTo(3));
  }

  @ParameterizedTest(name = "workers={0}")
  @ValueSource(ints = {1, 2})
  void sequentialRequestsOnNewConnectionsGoToEachBackendInTurn(int workers) throws Exception {
    try (Lb lb = startLb(workers)) {
      List<String> names = new ArrayList<>();
      for (int i = 0; i < EXPECTED.size(); i++) {
        try (RawHttpClient client = RawHttpClient.connect(lb.port())) {
          names.add(bodyOf(client.get("/").readResponse()));
        }
      }

      assertThat(names).containsExactlyElementsOf(EXPECTED);
    }
  }

  @ParameterizedTest(name = "workers={0}")
  @ValueSource(ints = {1, 2})
  void requestsTakingTurnsOverSeveralOpenConnectionsKeepTheOrder(int workers) throws Exception {
    try (Lb lb = startLb(workers)) {
      List<RawHttpClient> clients = new ArrayList<>();
      try {
        for (int i = 0; i < 4; i++) {
          clients.add(RawHttpClient.connect(lb.port()));
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < EXPECTED.size(); i++) {
          // Connections are spread over the event loops; the order is still global.
          RawHttpClient client = clients.get(i % clients.size());
          names.add(bodyOf(client.get("/").readResponse()));
        }

        assertThat(names).containsExactlyElementsOf(EXPECTED);
      } finally {
        for (RawHttpClient c : clients) {
          c.close();
        }
      }
    }
  }

  private static String bodyOf(RawResponse response) throws IOException {
    assertThat(response.status()).as("%s", response).isEqualTo(200);
    return response.bodyString();
  }
}
