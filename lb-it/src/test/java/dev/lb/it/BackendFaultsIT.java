package dev.lb.it;

import static dev.lb.it.LbAssertions.assertJsonError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lb.it.support.Ports;
import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.RawResponse;
import dev.lb.it.support.ResponseHead;
import dev.lb.it.support.ScriptedBackend;
import dev.lb.it.support.ScriptedBackend.Script;
import dev.lb.it.support.TestBackend;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Backend faults, one scripted misbehaviour at a time, each checked for what the client sees, whether the request was
 * retried on another backend, that the faulty backend connection is closed and never reused, and that the client's
 * next request is served normally.
 *
 * <p>The contract: a failure to connect is retried for any method; a failure after the request was sent (a close, a
 * reset, part of a response head, a malformed one) is retried only for idempotent methods, and never once response
 * bytes reached the client; 502 once retries are spent, 504 when no response head came within
 * {@code response_timeout} (not retried), a cut connection when the response head was already sent.
 */
class BackendFaultsIT {
  private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  private static final Duration RESPONSE_TIMEOUT = Duration.ofMillis(1000);
  private static final Duration IDLE_TIMEOUT = Duration.ofMillis(1500);
  private static final Duration GENEROUS = Duration.ofSeconds(10);

  private final List<AutoCloseable> resources = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
  }

  private <T extends AutoCloseable> T track(T resource) {
    resources.add(resource);
    return resource;
  }

  private Lb.Builder lb() {
    return Lb.builder()
        .set("proxy.response_timeout", RESPONSE_TIMEOUT.toMillis() + "ms")
        .set("proxy.idle_timeout", IDLE_TIMEOUT.toMillis() + "ms");
  }

  /** What the client gets for its request. */
  enum Outcome {
    /** Served by the healthy backend after the faulty one failed. */
    RETRIED,
    /** The contract's 502 JSON, no other backend asked. */
    BAD_GATEWAY,
    /** The contract's 504 JSON, no other backend asked. */
    GATEWAY_TIMEOUT,
    /** Not a fault after all: the response is read leniently, as RFC 9112 allows, and passed on. */
    SERVED
  }

  private static final Script READ = Script.create().readRequest();

  /** Faults before a whole response head arrived. */
  enum BeforeHead {
    CLOSE_ON_ACCEPT(Script.create().close(), Outcome.RETRIED, Outcome.BAD_GATEWAY),
    /**
     * Reset with the request unread. (A reset that comes before the balancer saw its connect complete is a connect
     * failure, retried for any method; waiting for the request's bytes keeps this one after it.)
     */
    RESET_WITH_THE_REQUEST_UNREAD(Script.create().awaitBytes().reset(), Outcome.RETRIED, Outcome.BAD_GATEWAY),
    CLOSE_AFTER_REQUEST(READ.close(), Outcome.RETRIED, Outcome.BAD_GATEWAY),
    RESET_AFTER_REQUEST(READ.reset(), Outcome.RETRIED, Outcome.BAD_GATEWAY),
    SILENT(READ, Outcome.GATEWAY_TIMEOUT, Outcome.GATEWAY_TIMEOUT),
    HEAD_DRIPPED_PAST_RESPONSE_TIMEOUT(
        READ.drip("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", Duration.ofMillis(100)),
        Outcome.GATEWAY_TIMEOUT, Outcome.GATEWAY_TIMEOUT),
    PARTIAL_STATUS_LINE_THEN_CLOSE(READ.write("HTTP/1.1 20").close(), Outcome.RETRIED, Outcome.BAD_GATEWAY),
    PARTIAL_HEAD_THEN_CLOSE(READ.write("HTTP/1.1 200 OK\r\nContent-Le").close(), Outcome.RETRIED,
        Outcome.BAD_GATEWAY),
    PARTIAL_HEAD_THEN_RESET(READ.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n").pause(Duration.ofMillis(200))
        .reset(), Outcome.RETRIED, Outcome.BAD_GATEWAY),
    GARBAGE(READ.write("\u0000\u0001\u0002 garbage \u00ff\r\n\r\n"), Outcome.RETRIED, Outcome.BAD_GATEWAY),
    NOT_HTTP(READ.write("SSH-2.0-OpenSSH_9.6\r\n"), Outcome.RETRIED, Outcome.BAD_GATEWAY),
    INVALID_STATUS_CODE(READ.write("HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok"), Outcome.RETRIED,
        Outcome.BAD_GATEWAY),
    INVALID_VERSION(READ.write("HTTX/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), Outcome.RETRIED,
        Outcome.BAD_GATEWAY),
    CONTENT_LENGTH_AND_CHUNKED(
        READ.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
        Outcome.RETRIED, Outcome.BAD_GATEWAY),
    TWO_CONTENT_LENGTHS(READ.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!"),
        Outcome.RETRIED, Outcome.BAD_GATEWAY),
    INVALID_CONTENT_LENGTH(READ.write("HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nok"), Outcome.RETRIED,
        Outcome.BAD_GATEWAY),
    NEGATIVE_CONTENT_LENGTH(READ.write("HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\nok"), Outcome.RETRIED,
        Outcome.BAD_GATEWAY),
    CHUNKED_NOT_LAST(READ.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
        Outcome.RETRIED, Outcome.BAD_GATEWAY),
    HEADER_WITHOUT_COLON(READ.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nNo colon here\r\n\r\nok"),
        Outcome.RETRIED, Outcome.BAD_GATEWAY),
    TRANSFER_ENCODING_WITHOUT_COLON(
        READ.write("HTTP/1.1 200 OK\r\nTransfer-Encoding chunked\r\nContent-Length: 2\r\n\r\nok"),
        Outcome.RETRIED, Outcome.BAD_GATEWAY),
    TRANSFER_ENCODING_NOT_CHUNKED_WITH_LENGTH(
        READ.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nok"),
        Outcome.RETRIED, Outcome.BAD_GATEWAY),
    TRANSFER_ENCODING_NOT_CHUNKED(READ.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok").close(),
        Outcome.RETRIED, Outcome.BAD_GATEWAY),
    SPACE_BEFORE_COLON(READ.write("HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok").serve(OK), Outcome.SERVED,
        Outcome.SERVED),
    HEADER_OVER_LIMIT(READ.write("HTTP/1.1 200 OK\r\nX-Big: " + "a".repeat(70_000) + "\r\nContent-Length: 2\r\n\r\nok"),
        Outcome.RETRIED, Outcome.BAD_GATEWAY),
    STATUS_LINE_OVER_LIMIT(READ.write("HTTP/1.1 200 " + "O".repeat(9000) + "\r\nContent-Length: 2\r\n\r\nok"),
        Outcome.RETRIED, Outcome.BAD_GATEWAY),
    UNSOLICITED_SWITCHING_PROTOCOLS(
        READ.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
        Outcome.RETRIED, Outcome.BAD_GATEWAY),
    /**
     * A broken chunk in the read that brought the head: nothing went to the client yet (the head waits for the end
     * of its read), so the attempt fails like one with a malformed head, as HAProxy answers 502.
     */
    INVALID_CHUNK_SIZE_IN_THE_FIRST_READ(
        READ.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\npartial\r\nzz\r\n"),
        Outcome.RETRIED, Outcome.BAD_GATEWAY);

    final Script script;
    final Outcome get;
    final Outcome post;

    BeforeHead(Script script, Outcome get, Outcome post) {
      this.script = script;
      this.get = get;
      this.post = post;
    }
  }

  @ParameterizedTest(name = "{0} GET")
  @EnumSource(BeforeHead.class)
  void getBeforeTheResponseHead(BeforeHead fault) throws Exception {
    beforeTheResponseHead(fault, "GET / HTTP/1.1\r\nHost: lb\r\n\r\n", fault.get);
  }

  @ParameterizedTest(name = "{0} POST")
  @EnumSource(BeforeHead.class)
  void postBeforeTheResponseHead(BeforeHead fault) throws Exception {
    beforeTheResponseHead(fault, "POST /echo HTTP/1.1\r\nHost: lb\r\nContent-Length: 5\r\n\r\nhello", fault.post);
  }

  private void beforeTheResponseHead(BeforeHead fault, String request, Outcome expected) throws Exception {
    ScriptedBackend bad = track(ScriptedBackend.start(fault.script, Script.create().serve(OK)));
    TestBackend good = track(TestBackend.start("good"));
    try (Lb lb = lb().backend(bad.url()).backend(good.url()).start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      long start = System.nanoTime();
      RawResponse response = client.send(request).readResponse(GENEROUS);
      Duration took = Duration.ofNanos(System.nanoTime() - start);

      switch (expected) {
        case RETRIED:
          assertThat(response.status()).as("%s", response).isEqualTo(200);
          assertThat(response.bodyString()).isIn("good", "hello");
          assertThat(good.requests()).as("requests retried on the healthy backend").isEqualTo(1);
          break;
        case BAD_GATEWAY:
          assertJsonError(response, 502, "Bad gateway");
          assertThat(good.requests()).as("requests retried on the healthy backend").isZero();
          break;
        case GATEWAY_TIMEOUT:
          assertJsonError(response, 504, "Gateway timeout");
          assertThat(took).as("answered after the response timeout").isGreaterThanOrEqualTo(RESPONSE_TIMEOUT);
          assertThat(good.requests()).as("requests retried on the healthy backend").isZero();
          break;
        case SERVED:
          assertThat(response.status()).as("%s", response).isEqualTo(200);
          assertThat(response.bodyString()).isEqualTo("ok");
          assertThat(good.requests()).isZero();
          break;
      }
      assertThat(response.header("X-Request-Id")).isNotBlank();
      if (expected == Outcome.SERVED) {
        // A response read leniently leaves its connection in the pool.
        for (int i = 0; i < 2; i++) {
          assertThat(client.get("/").readResponse(GENEROUS).status()).isEqualTo(200);
        }
        assertThat(bad.connectionCount()).isEqualTo(1);
        return;
      }
      assertThat(bad.connection(0).awaitClosed(GENEROUS)).as("the faulty connection is closed").isTrue();
      assertThat(bad.connection(0).requests()).as("requests on the faulty connection").isLessThanOrEqualTo(1);

      // The client's connection stays open and serves the next requests, on new backend connections.
      assertThat(response.headers().hasToken("Connection", "close")).as("%s", response).isFalse();
      List<String> bodies = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        RawResponse next = client.get("/").readResponse(GENEROUS);
        assertThat(next.status()).as("%s", next).isEqualTo(200);
        bodies.add(next.bodyString());
      }
      assertThat(bodies).containsExactlyInAnyOrder("ok", "good");
      assertThat(bad.connection(0).requests()).as("requests on the faulty connection").isLessThanOrEqualTo(1);
      assertThat(bad.connectionCount()).isEqualTo(2);
    }
  }

  @Test
  void aRefusedConnectionIsRetriedForEveryMethod() throws Exception {
    TestBackend good = track(TestBackend.start("good"));
    try (Lb lb = lb().backend("http://127.0.0.1:" + Ports.refusedPort()).backend(good.url()).start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      RawResponse get = client.get("/").readResponse();
      RawResponse post =
          client.send("POST /echo HTTP/1.1\r\nHost: lb\r\nContent-Length: 5\r\n\r\nhello").readResponse();

      assertThat(get.bodyString()).as("%s", get).isEqualTo("good");
      assertThat(post.bodyString()).as("%s", post).isEqualTo("hello");
      assertThat(good.requests()).isEqualTo(2);
    }
  }

  /** Faults after the response head went to the client: the client connection is cut. */
  enum AfterHead {
    CLOSE_MID_BODY(READ.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        .pause(Duration.ofMillis(200)).close()),
    RESET_MID_BODY(READ.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial").pause(Duration.ofMillis(200))
        .reset()),
    CLOSE_MID_CHUNKED_BODY(READ.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\npartial\r\n")
        .pause(Duration.ofMillis(200)).close()),
    RESET_MID_CHUNKED_BODY(READ.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\npartial\r\n")
        .pause(Duration.ofMillis(200)).reset()),
    CLOSE_MID_CHUNK(READ.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n64\r\npartial")
        .pause(Duration.ofMillis(200)).close()),
    INVALID_CHUNK_SIZE(READ.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\npartial\r\n")
        .pause(Duration.ofMillis(200)).write("zz\r\n")),
    CHUNK_WITHOUT_CRLF(READ.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\npartial")
        .pause(Duration.ofMillis(200)).write("XX3\r\nabc\r\n")),
    CHUNK_SIZE_OVERFLOW(READ.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\npartial\r\n")
        .pause(Duration.ofMillis(200)).write("fffffffffffffffff\r\n")),
    SILENT_MID_BODY(READ.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"), true, false),
    SILENT_MID_CHUNKED_BODY(
        READ.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\npartial\r\n"), true, false);

    final Script script;
    /** The cut comes from the idle timeout. */
    final boolean silent;
    /** The connection may be cut before the response head reached the client. */
    final boolean headMayBeLost;

    AfterHead(Script script) {
      this(script, false, false);
    }

    AfterHead(Script script, boolean silent, boolean headMayBeLost) {
      this.script = script;
      this.silent = silent;
      this.headMayBeLost = headMayBeLost;
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(AfterHead.class)
  void afterTheResponseHead(AfterHead fault) throws Exception {
    ScriptedBackend bad = track(ScriptedBackend.start(fault.script, Script.create().serve(OK)));
    TestBackend good = track(TestBackend.start("good"));
    try (Lb lb = lb().backend(bad.url()).backend(good.url()).start()) {
      try (RawHttpClient client = RawHttpClient.connect(lb.port())) {
        client.timeout(GENEROUS);
        client.get("/");
        ResponseHead head;
        try {
          head = client.readHead(false);
        } catch (EOFException | SocketException e) {
          assertThat(fault.headMayBeLost).as("cut before the response head: %s", e).isTrue();
          head = null;
        }
        long start = System.nanoTime();
        if (head != null) {
          assertThat(head.status()).isEqualTo(200);
          ResponseHead begun = head;
          assertThatThrownBy(() -> client.body(begun).readAllBytes())
              .as("reading a body its backend broke off").isInstanceOfAny(EOFException.class, SocketException.class);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        if (fault.silent) {
          assertThat(took).as("cut by the idle timeout").isGreaterThanOrEqualTo(IDLE_TIMEOUT.minusMillis(100))
              .isLessThan(IDLE_TIMEOUT.plusSeconds(5));
        }
        assertThat(good.requests()).as("no retry once the response began").isZero();
        assertThat(bad.connection(0).awaitClosed(GENEROUS)).as("the faulty connection is closed").isTrue();
      }

      // Other clients are served by both backends, the faulty one on a new connection.
      List<String> bodies = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        try (RawHttpClient next = RawHttpClient.connect(lb.port())) {
          RawResponse response = next.get("/").readResponse(GENEROUS);
          assertThat(response.status()).as("%s", response).isEqualTo(200);
          bodies.add(response.bodyString());
        }
      }
      assertThat(bodies).containsExactlyInAnyOrder("ok", "good");
      assertThat(bad.connection(0).requests()).as("requests on the faulty connection").isEqualTo(1);
    }
  }

  /** A response longer than its Content-Length: the extra bytes arrive with the body, or later. */
  enum Overrun {
    PARTIAL_LINE(READ.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA")),
    WHOLE_RESPONSE(READ.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
        + "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged")),
    PARTIAL_LINE_LATER(READ.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello").pause(Duration.ofMillis(300))
        .write("EXTRA")),
    WHOLE_RESPONSE_LATER(READ.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        .pause(Duration.ofMillis(300)).write("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged"));

    final Script script;

    Overrun(Script script) {
      this.script = script;
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Overrun.class)
  void aResponseLongerThanItsContentLengthEndsAtItsLengthAndItsConnectionIsDiscarded(Overrun fault)
      throws Exception {
    ScriptedBackend bad = track(ScriptedBackend.start(fault.script, Script.create().serve(OK)));
    try (Lb lb = lb().backend(bad.url()).start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      RawResponse first = client.get("/").readResponse(GENEROUS);
      assertThat(first.status()).as("%s", first).isEqualTo(200);
      assertThat(first.bodyString()).isEqualTo("hello");

      assertThat(bad.connection(0).awaitClosed(GENEROUS)).as("the overrunning connection is closed").isTrue();
      RawResponse second = client.get("/").readResponse(GENEROUS);
      assertThat(second.status()).as("%s", second).isEqualTo(200);
      assertThat(second.bodyString()).as("the extra bytes reach no client").isEqualTo("ok");
      assertThat(bad.connection(0).requests()).isEqualTo(1);
      assertThat(bad.connectionCount()).isEqualTo(2);
    }
  }

  @ParameterizedTest(name = "chunked={0}")
  @ValueSource(booleans = {false, true})
  void aResponseThatTricklesWithinTheTimeoutsCompletesIntact(boolean chunked) throws Exception {
    String body = "0123456789abcdefghijklmnopqrstuvwxyz";
    String head = chunked
        ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        : "HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n";
    String framed = chunked ? Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\n\r\n" : body;
    // The head byte by byte well within response_timeout, then the body for longer than response_timeout, with
    // gaps well within idle_timeout.
    ScriptedBackend drip = track(ScriptedBackend.start(
        READ.drip(head, Duration.ofMillis(5)).drip(framed, Duration.ofMillis(40)).serve(OK)));
    try (Lb lb = lb().backend(drip.url()).start();
        RawHttpClient client = RawHttpClient.connect(lb.port())) {
      long start = System.nanoTime();
      RawResponse response = client.get("/").readResponse(GENEROUS);
      Duration took = Duration.ofNanos(System.nanoTime() - start);

      assertThat(response.status()).as("%s", response).isEqualTo(200);
      assertThat(response.bodyString()).isEqualTo(body);
      assertThat(took).as("the body outlasted the response timeout").isGreaterThan(RESPONSE_TIMEOUT);

      // The connection ended cleanly: both it and the client's connection serve the next request.
      RawResponse next = client.get("/").readResponse(GENEROUS);
      assertThat(next.bodyString()).as("%s", next).isEqualTo("ok");
      assertThat(drip.connectionCount()).isEqualTo(1);
      assertThat(drip.connection(0).requests()).isEqualTo(2);
    }
  }
}
