package dev.lb.it.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@link RawHttpClient}'s response parsing, against a server that answers with scripted bytes. */
class RawHttpClientTest {
  private static final String REQUEST = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

  @Test
  void chunkedBodyWithExtensionsAndTrailers() throws Exception {
    try (Script server = Script.answer(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
        RawHttpClient client = RawHttpClient.connect(server.port())) {
      RawResponse response = client.send(REQUEST).readResponse();

      assertThat(response.framing()).isEqualTo(ResponseHead.Framing.CHUNKED);
      assertThat(response.bodyString()).isEqualTo("hello world");
      assertThat(response.trailers().get("x-trailer")).isEqualTo("t");
    }
  }

  @Test
  void bodyUntilCloseWhenNeitherLengthNorChunked() throws Exception {
    try (Script server = Script.answerAndClose("HTTP/1.0 200 OK\r\n\r\nuntil close");
        RawHttpClient client = RawHttpClient.connect(server.port())) {
      RawResponse response = client.send(REQUEST).readResponse();

      assertThat(response.version()).isEqualTo("HTTP/1.0");
      assertThat(response.framing()).isEqualTo(ResponseHead.Framing.CLOSE);
      assertThat(response.bodyString()).isEqualTo("until close");
    }
  }

  @Test
  void headersKeepDuplicatesAndOrderAndIgnoreCase() throws Exception {
    try (Script server = Script.answer(
            "HTTP/1.1 200\r\nSet-Cookie: a\r\nset-cookie: b\r\nX-Folded: one\r\n two\r\n"
                + "Connection: keep-alive, Upgrade\r\nContent-Length: 0\r\n\r\n");
        RawHttpClient client = RawHttpClient.connect(server.port())) {
      RawResponse response = client.send(REQUEST).readResponse();

      assertThat(response.reason()).isEmpty();
      assertThat(response.headers().getAll("SET-COOKIE")).containsExactly("a", "b");
      assertThat(response.header("x-folded")).isEqualTo("one two");
      assertThat(response.headers().hasToken("connection", "upgrade")).isTrue();
      assertThat(response.headers().names()).containsExactly("set-cookie", "x-folded", "connection", "content-length");
      assertThat(response.headers().entries().get(1).getKey()).isEqualTo("set-cookie");
    }
  }

  @Test
  void aResponseToHeadHasNoBodyWhateverItsLength() throws Exception {
    try (Script server = Script.answer(
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
        RawHttpClient client = RawHttpClient.connect(server.port())) {
      client.send(REQUEST);

      RawResponse head = client.readResponseToHead();
      RawResponse next = client.readResponse();

      assertThat(head.body()).isEmpty();
      assertThat(head.framing()).isEqualTo(ResponseHead.Framing.NONE);
      assertThat(next.status()).isEqualTo(204);
    }
  }

  @Test
  void aTruncatedBodyIsAnEofError() throws Exception {
    try (Script server = Script.answerAndClose("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        RawHttpClient client = RawHttpClient.connect(server.port())) {
      client.send(REQUEST);

      assertThatThrownBy(client::readResponse).isInstanceOf(EOFException.class).hasMessageContaining("7 missing");
    }
  }

  @Test
  void conflictingLengthsAndNonHttpAreProtocolErrors() throws Exception {
    try (Script conflicting = Script.answer("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab");
        Script garbage = Script.answer("SSH-2.0-OpenSSH\r\n\r\n");
        RawHttpClient first = RawHttpClient.connect(conflicting.port());
        RawHttpClient second = RawHttpClient.connect(garbage.port())) {
      first.send(REQUEST);
      second.send(REQUEST);

      assertThatThrownBy(first::readResponse).isInstanceOf(ProtocolException.class);
      assertThatThrownBy(second::readResponse).isInstanceOf(ProtocolException.class);
    }
  }

  @Test
  void isClosedByPeerKeepsDataThatArrivesInstead() throws Exception {
    try (Script server = Script.answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        RawHttpClient client = RawHttpClient.connect(server.port())) {
      assertThat(client.isClosedByPeer(Duration.ofMillis(100))).isFalse();
      client.send(REQUEST);

      assertThat(client.isClosedByPeer(Duration.ofSeconds(5))).isFalse();
      assertThat(client.readResponse().bodyString()).isEqualTo("ok");
    }
  }

  @Test
  void isClosedByPeerSeesTheClose() throws Exception {
    try (Script server = Script.answerAndClose("");
        RawHttpClient client = RawHttpClient.connect(server.port())) {
      client.send(REQUEST);

      assertThat(client.isClosedByPeer(Duration.ofSeconds(5))).isTrue();
    }
  }

  /** A one-connection server that reads a request head, writes scripted bytes, and maybe closes. */
  private static final class Script implements AutoCloseable {
    private final ServerSocket server;
    private final Thread thread;

    private Script(String answer, boolean close) throws IOException {
      server = new ServerSocket();
      server.bind(new InetSocketAddress("127.0.0.1", 0));
      thread = new Thread(() -> serve(answer.getBytes(StandardCharsets.ISO_8859_1), close), "script");
      thread.setDaemon(true);
      thread.start();
    }

    static Script answer(String bytes) throws IOException {
      return new Script(bytes, false);
    }

    static Script answerAndClose(String bytes) throws IOException {
      return new Script(bytes, true);
    }

    int port() {
      return server.getLocalPort();
    }

    private void serve(byte[] answer, boolean close) {
      try (Socket socket = server.accept()) {
        InputStream in = socket.getInputStream();
        int matched = 0;
        while (matched < 4) {
          int b = in.read();
          if (b < 0) {
            return;
          }
          matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        socket.getOutputStream().write(answer);
        socket.getOutputStream().flush();
        if (!close) {
          in.readAllBytes();
        }
      } catch (IOException e) {
        // The client went away; nothing to do.
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
      try {
        thread.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
