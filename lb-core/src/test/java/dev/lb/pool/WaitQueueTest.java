package dev.lb.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lb.backend.Backend;
import dev.lb.config.BackendConfig;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.DefaultEventExecutor;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The shared queue's rules: who is served first, that a freed slot goes only to a waiter while one waits, the
 * retry when a slot freed before the request could wait, a full queue, and the preference for a connection's own
 * event loop within {@link WaitQueue#LOOP_PREFERENCE_NANOS}.
 */
class WaitQueueTest {
  private final EventExecutor loopA = new DefaultEventExecutor();
  private final EventExecutor loopB = new DefaultEventExecutor();
  private final Backend capped = backend(8081, 2);
  private final Backend other = backend(8082, 1);
  private final List<String> grants = new CopyOnWriteArrayList<>();
  private final EmbeddedPool pool = new EmbeddedPool();

  @AfterEach
  void stop() {
    loopA.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    loopB.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    pool.finishAll();
  }

  private static Backend backend(int port, int max) {
    return new Backend(new BackendConfig("http://127.0.0.1:" + port, "127.0.0.1", port, 1, max));
  }

  private final class Recorded extends WaitQueue.Waiter {
    final String name;

    Recorded(String name, EventExecutor loop, long since, Backend... candidates) {
      super(loop, candidates, since);
      this.name = name;
    }

    @Override
    protected void granted(Backend backend, @Nullable BackendConnection connection) {
      grants.add(name + (connection == null ? " slot " : " connection ") + backend.port());
    }
  }

  private void fill(Backend b) {
    while (b.reserveConnection()) {
      // take every slot
    }
  }

  private BackendConnection idleConnection(Backend b) {
    EmbeddedChannel ch = new EmbeddedChannel();
    BackendConnection c = new BackendConnection(b, pool);
    ch.pipeline().addLast(BackendHandlerNames.BACKEND, c);
    return c;
  }

  @Test
  void freedSlotsGoToTheOldestWaiterThatCanUseThemAndAreNeverReleasedWhileOneWaits() {
    WaitQueue q = new WaitQueue(10);
    fill(capped);
    fill(other);
    assertThat(q.enqueue(new Recorded("first", loopA, 1, capped))).isEqualTo(WaitQueue.Enqueued.WAITING);
    assertThat(q.enqueue(new Recorded("second", loopB, 2, other))).isEqualTo(WaitQueue.Enqueued.WAITING);
    assertThat(q.enqueue(new Recorded("third", loopB, 3, capped, other))).isEqualTo(WaitQueue.Enqueued.WAITING);
    assertThat(q.size()).isEqualTo(3);

    q.slotFreed(other);
    q.slotFreed(capped);
    q.slotFreed(capped);
    await().atMost(Duration.ofSeconds(5)).until(() -> grants.size() == 3);
    assertThat(grants).containsExactlyInAnyOrder("second slot 8082", "first slot 8081", "third slot 8081");
    assertThat(capped.openConnections()).as("slots handed over, not released").isEqualTo(2);
    assertThat(q.size()).isZero();

    q.slotFreed(capped);
    assertThat(capped.openConnections()).as("released once nobody waits").isEqualTo(1);
  }

  @Test
  void aSlotFreedBeforeTheRequestCouldWaitSendsItBackAndAFullQueueRefuses() {
    WaitQueue q = new WaitQueue(1);
    assertThat(q.enqueue(new Recorded("free", loopA, 1, capped))).isEqualTo(WaitQueue.Enqueued.RETRY);
    fill(capped);
    assertThat(q.enqueue(new Recorded("waits", loopA, 2, capped))).isEqualTo(WaitQueue.Enqueued.WAITING);
    assertThat(q.enqueue(new Recorded("refused", loopA, 3, capped))).isEqualTo(WaitQueue.Enqueued.FULL);
    assertThat(new WaitQueue(0).enqueue(new Recorded("never", loopA, 4, capped)))
        .isEqualTo(WaitQueue.Enqueued.FULL);
  }

  @Test
  void aWaiterThatLeftIsNotServed() {
    WaitQueue q = new WaitQueue(10);
    fill(capped);
    Recorded gone = new Recorded("gone", loopA, 1, capped);
    q.enqueue(gone);
    q.enqueue(new Recorded("stays", loopA, 2, capped));
    assertThat(q.remove(gone)).isTrue();
    assertThat(q.remove(gone)).isFalse();
    q.slotFreed(capped);
    await().atMost(Duration.ofSeconds(5)).until(() -> grants.size() == 1);
    assertThat(grants).containsExactly("stays slot 8081");
  }

  @Test
  void anIdleConnectionServesItsOwnLoopUnlessAnotherLoopsWaiterWaitedClearlyLonger() {
    WaitQueue q = new WaitQueue(10);
    fill(capped);
    long t0 = 1_000_000_000L;
    q.enqueue(new Recorded("b-old", loopB, t0, capped));
    q.enqueue(new Recorded("a-near", loopA, t0 + WaitQueue.LOOP_PREFERENCE_NANOS / 2, capped));

    assertThat(q.offerToWaiter(idleConnection(capped), loopA)).isTrue();
    await().atMost(Duration.ofSeconds(5)).until(() -> grants.size() == 1);
    assertThat(grants).containsExactly("a-near connection 8081");

    q.enqueue(new Recorded("a-late", loopA, t0 + 2 * WaitQueue.LOOP_PREFERENCE_NANOS, capped));
    BackendConnection idle = idleConnection(capped);
    assertThat(q.offerToWaiter(idle, loopA)).as("closed for b-old").isTrue();
    assertThat(q.size()).as("b-old waits for the slot of the closing connection").isEqualTo(2);
    q.slotFreed(capped);
    await().atMost(Duration.ofSeconds(5)).until(() -> grants.size() == 2);
    assertThat(grants).last().isEqualTo("b-old slot 8081");

    assertThat(q.offerToWaiter(idleConnection(other), loopA)).as("nobody waits for it").isFalse();
  }
}
