package dev.lb.it.support;

import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.codec.http.HttpHeaders;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * Everything about one {@link TestBackend} that its connections share: the name, counters, the switches tests flip,
 * and the record of received request heads and trailers. Written from event loops, read from test threads, so every
 * field is atomic or volatile.
 */
final class BackendState {
  /** How many request heads are remembered; older ones are dropped so long tests keep bounded memory. */
  static final int RECORD_LIMIT = 10_000;

  private final String name;
  private final ChannelGroup channels;
  private final AtomicLong connectionsAccepted = new AtomicLong();
  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong completeRequests = new AtomicLong();
  private final LinkedBlockingDeque<RecordedRequest> recorded = new LinkedBlockingDeque<>();
  private final LinkedBlockingDeque<HttpHeaders> trailers = new LinkedBlockingDeque<>();
  private volatile @Nullable RecordedRequest last;
  private volatile int healthStatus = 200;
  private volatile long delayMillis;
  private volatile boolean readingPaused;
  private volatile boolean resetting;
  private final java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger();
  private final java.util.concurrent.atomic.AtomicInteger maxOpen = new java.util.concurrent.atomic.AtomicInteger();
  private final List<String> sniNames = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final List<String> clientSubjects = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final AtomicLong failedHandshakes = new AtomicLong();

  BackendState(String name, ChannelGroup channels) {
    this.name = name;
    this.channels = channels;
  }

  String name() {
    return name;
  }

  /** Open channels: the listener while bound, and every accepted connection until it closes. */
  ChannelGroup channels() {
    return channels;
  }

  void accepted(Channel child) {
    connectionsAccepted.incrementAndGet();
    channels.add(child);
    maxOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
    child.closeFuture().addListener(f -> open.decrementAndGet());
  }

  void sni(@Nullable String hostname) {
    sniNames.add(hostname == null ? "" : hostname);
  }

  List<String> sniNames() {
    return List.copyOf(sniNames);
  }

  void handshake(String clientSubject) {
    clientSubjects.add(clientSubject);
  }

  List<String> clientSubjects() {
    return List.copyOf(clientSubjects);
  }

  void handshakeFailed() {
    failedHandshakes.incrementAndGet();
  }

  long failedHandshakes() {
    return failedHandshakes.get();
  }

  /** The most connections that were open at once. */
  int maxOpenConnections() {
    return maxOpen.get();
  }

  boolean resetting() {
    return resetting;
  }

  void resetting(boolean value) {
    this.resetting = value;
  }

  long connectionsAccepted() {
    return connectionsAccepted.get();
  }

  void record(RecordedRequest request) {
    requests.incrementAndGet();
    last = request;
    while (recorded.size() >= RECORD_LIMIT) {
      recorded.pollFirst();
    }
    recorded.offerLast(request);
  }

  long requests() {
    return requests.get();
  }

  /** A request's body ended well-formed, with these trailer fields (often none). */
  void requestCompleted(HttpHeaders trailerFields) {
    completeRequests.incrementAndGet();
    while (trailers.size() >= RECORD_LIMIT) {
      trailers.pollFirst();
    }
    trailers.offerLast(trailerFields);
  }

  List<HttpHeaders> trailers() {
    return new ArrayList<>(trailers);
  }

  long completeRequests() {
    return completeRequests.get();
  }

  @Nullable RecordedRequest last() {
    return last;
  }

  List<RecordedRequest> recorded() {
    return new ArrayList<>(recorded);
  }

  @Nullable RecordedRequest takeRecorded(Duration timeout) throws InterruptedException {
    return recorded.pollFirst(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  void clearRecorded() {
    recorded.clear();
    trailers.clear();
  }

  int healthStatus() {
    return healthStatus;
  }

  void healthStatus(int status) {
    this.healthStatus = status;
  }

  long delayMillis() {
    return delayMillis;
  }

  void delayMillis(long millis) {
    this.delayMillis = millis;
  }

  boolean readingPaused() {
    return readingPaused;
  }

  void readingPaused(boolean paused) {
    this.readingPaused = paused;
  }
}
