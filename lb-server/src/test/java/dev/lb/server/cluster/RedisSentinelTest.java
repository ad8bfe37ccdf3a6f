package dev.lb.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lb.config.RateLimitConfig;
import dev.lb.config.RateLimitConfig.FailureMode;
import dev.lb.ratelimit.Decision;
import dev.lb.ratelimit.Limit;
import dev.lb.ratelimit.LimitRegistry;
import dev.lb.server.testing.RedisProcess;
import io.lettuce.core.RedisClient;
import io.lettuce.core.sentinel.api.StatefulRedisSentinelConnection;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rate_limit.redis.url: redis-sentinel://...}: the limiter finds the master through Sentinel and, when Sentinel
 * fails it over to its replica, follows it there, deciding by {@code failure_mode} for the moments between. Runs
 * redis-server processes of its own (a master, its replica, one Sentinel); skipped where there is no redis-server.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class RedisSentinelTest {
  private static final String MASTER = "lb-master";
  private final List<AutoCloseable> closing = new ArrayList<>();
  @TempDir Path dir;

  @AfterEach
  void close() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  private <T extends AutoCloseable> T closed(T c) {
    closing.add(c);
    return c;
  }

  /** One decision, waited for. */
  private static boolean decide(ClusterRateLimiter l, String client) throws InterruptedException {
    Decision out = new Decision();
    CountDownLatch done = new CountDownLatch(1);
    if (l.acquire(client, out, Runnable::run, done::countDown)) {
      done.countDown();
    }
    assertThat(done.await(30, TimeUnit.SECONDS)).as("decided").isTrue();
    return out.allowed();
  }

  @Test
  void theLimiterFindsTheMasterThroughSentinelAndFollowsAFailover() throws Exception {
    RedisProcess master = closed(RedisProcess.start(dir));
    RedisProcess replica =
        closed(RedisProcess.start(dir, "--replicaof", "127.0.0.1", Integer.toString(master.port())));
    RedisProcess sentinel = closed(RedisProcess.sentinel(dir, MASTER, master.port(), 2000));
    RedisClient sentinelClient = RedisClient.create(sentinel.url());
    closing.add(() -> sentinelClient.shutdown(Duration.ZERO, Duration.ofSeconds(2)));
    StatefulRedisSentinelConnection<String, String> watch = closed(sentinelClient.connectSentinel());
    Awaitility.await("Sentinel sees the replica").atMost(60, TimeUnit.SECONDS)
        .until(() -> !watch.sync().replicas(MASTER).isEmpty());

    String url = "redis-sentinel://127.0.0.1:" + sentinel.port() + "/0#" + MASTER;
    LettuceGcra gcra = closed(LettuceGcra.connect(
        new RateLimitConfig.Redis(url, Duration.ofMillis(500), FailureMode.LOCAL), Duration.ofSeconds(10)));
    ClusterRateLimiter limiter = closed(new ClusterRateLimiter(new LimitRegistry(new Limit(1, 1), Map.of()), gcra,
        FailureMode.LOCAL, System::nanoTime, ClusterMetrics.disabled(), Executors.newSingleThreadScheduledExecutor()));
    assertThat(decide(limiter, "before")).isTrue();
    assertThat(decide(limiter, "before")).as("capacity 1: the bucket in Redis is dry").isFalse();
    assertThat(limiter.mode()).isEqualTo(ClusterRateLimiter.Mode.REDIS);
    assertThat(master.command("GET", LettuceGcra.PREFIX + "before")).as("the bucket is on the master").isNotNull();

    watch.sync().failover(MASTER);
    Awaitility.await("Sentinel names the replica master").atMost(60, TimeUnit.SECONDS)
        .until(() -> masterPort(watch) == replica.port());
    // Until the limiter is on the new master, a decision may come from failure_mode: never a stalled one.
    Awaitility.await("the limiter decides on the new master").atMost(90, TimeUnit.SECONDS)
        .pollInterval(200, TimeUnit.MILLISECONDS)
        .until(() -> {
          String client = "after-" + System.nanoTime();
          decide(limiter, client);
          return limiter.mode() == ClusterRateLimiter.Mode.REDIS && replica.command("GET", LettuceGcra.PREFIX + client) != null;
        });
    assertThat(masterPort(watch)).as("no second failover meanwhile").isEqualTo(replica.port());
  }

  private static int masterPort(StatefulRedisSentinelConnection<String, String> sentinel) {
    return ((InetSocketAddress) sentinel.sync().getMasterAddrByName(MASTER)).getPort();
  }
}
