package dev.lb.server.cluster;

import dev.lb.config.RateLimitConfig;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jspecify.annotations.Nullable;

/**
 * The cluster-wide buckets in Redis through Lettuce, on Netty event loops of its own (two I/O threads, Lettuce's
 * least; never lb's loops): every call is asynchronous, bounded by {@code rate_limit.redis.timeout}, and fails at once
 * while the connection is down (Lettuce reconnects by itself meanwhile); connecting may take up to
 * {@link #CONNECT_TIMEOUT}.
 *
 * <p>The bucket is GCRA: one key per client holding its theoretical arrival time in microseconds of Redis's own
 * clock ({@code TIME}, so replicas' clocks never matter), expiring when the bucket would be full. One script grants up
 * to N tokens at once, for many clients in one call, and takes back unused ones; the heartbeat is a sorted set of
 * replicas scored by their last beat.
 */
public final class LettuceGcra implements ClusterRateLimiter.Gcra, AutoCloseable {
  private static final Logger log = LogManager.getLogger(LettuceGcra.class);
  /** Keys of client buckets start with this. */
  static final String PREFIX = "lb:rl:";
  /** The sorted set of replicas. */
  static final String REPLICAS = "lb:replicas";
  /** The longest a connection (TCP, TLS, handshake) may take, unless the command timeout is longer. */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
  /** The longest wait between two tries to reconnect to Redis. */
  static final Duration RECONNECT_AT_MOST = Duration.ofSeconds(1);
  /** A replica not heard of for this long is not counted. */
  static final long ALIVE_MILLIS = 5_000;

  /**
   * KEYS: the clients' keys; ARGV, six per key in order: emission interval in µs, capacity, tokens wanted, tokens
   * given back, requests admitted on credit, µs since the last of them. Answers four numbers per key: {granted,
   * remaining, µs until full, µs until one token when none was granted}. Every key is decided at the same instant of
   * Redis's clock. Credit is charged as if all of it was spent at its last request: never less than it cost (what
   * was spent earlier had refilled more), and it may take the bucket below empty, which later requests pay back.
   */
  static final String TAKE = """
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
      local out = {}
      for i = 1, #KEYS do
        local a = (i - 1) * 6
        local interval = tonumber(ARGV[a + 1])
        local capacity = tonumber(ARGV[a + 2])
        local want = tonumber(ARGV[a + 3])
        local back = tonumber(ARGV[a + 4])
        local debt = tonumber(ARGV[a + 5])
        local tat = tonumber(redis.call('GET', KEYS[i]) or 0)
        if debt > 0 then
          local spent = now - tonumber(ARGV[a + 6])
          if tat < spent then tat = spent end
          tat = tat + debt * interval
        end
        if back > 0 then tat = tat - back * interval end
        if tat < now then tat = now end
        local burst = capacity * interval
        local free = math.floor((now + burst - tat) / interval)
        if free < 0 then free = 0 end
        local granted = math.min(want, free)
        tat = tat + granted * interval
        if granted > 0 or back > 0 or debt > 0 then
          local ttl = math.ceil((tat - now) / 1000)
          if ttl > 0 then
            redis.call('SET', KEYS[i], string.format('%.0f', tat), 'PX', ttl)
          else
            redis.call('DEL', KEYS[i])
          end
        end
        local retry = 0
        if granted == 0 then retry = tat + interval - now - burst end
        local o = (i - 1) * 4
        local remaining = math.floor((now + burst - tat) / interval)
        if remaining < 0 then remaining = 0 end
        out[o + 1] = granted
        out[o + 2] = remaining
        out[o + 3] = tat - now
        out[o + 4] = retry
      end
      return out
      """;

  /** KEYS[1] the replica set; ARGV: this replica's id, the alive window in ms. Answers the replicas alive. */
  static final String HEARTBEAT = """
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      redis.call('ZADD', KEYS[1], now, ARGV[1])
      redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
      redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
      return redis.call('ZCARD', KEYS[1])
      """;

  private final ClientResources resources;
  private final RedisClient client;
  private final RedisURI uri;
  private final String id = UUID.randomUUID().toString();
  private final String takeSha = sha1(TAKE);
  private final String heartbeatSha = sha1(HEARTBEAT);
  private final AtomicBoolean connecting = new AtomicBoolean();
  private volatile @Nullable StatefulRedisConnection<String, String> connection;

  private LettuceGcra(RateLimitConfig.Redis config) {
    this.uri = RedisURI.create(config.url());
    // Connecting (and the handshake after it) gets longer than a command: a connection is made once, and 50 ms is
    // too short for a TCP and TLS handshake on a busy host; commands keep the configured timeout.
    Duration connect = config.timeout().compareTo(CONNECT_TIMEOUT) > 0 ? config.timeout() : CONNECT_TIMEOUT;
    this.uri.setTimeout(connect);
    // Reconnecting: Lettuce's default backs off to 30 s, so a replica could stay on its failure_mode for half a
    // minute after Redis is back; tries 0.1 to 1 s apart (jittered, so replicas do not reconnect in step).
    this.resources = DefaultClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(2)
        .reconnectDelay(Delay.equalJitter(Duration.ofMillis(100), RECONNECT_AT_MOST, 100, TimeUnit.MILLISECONDS))
        .build();
    this.client = RedisClient.create(resources, uri);
    client.setOptions(ClientOptions.builder()
        .autoReconnect(true)
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
        .socketOptions(SocketOptions.builder().connectTimeout(connect).keepAlive(true).tcpNoDelay(true).build())
        .timeoutOptions(TimeoutOptions.enabled(config.timeout()))
        .build());
  }

  /**
   * Connects, waiting up to {@code wait} (on the caller's thread: lb's start, never an event loop); without an answer
   * by then it goes on unconnected, and the heartbeat keeps trying.
   */
  public static LettuceGcra connect(RateLimitConfig.Redis config, Duration wait) {
    LettuceGcra gcra = new LettuceGcra(config);
    try {
      gcra.connectNow().toCompletableFuture().get(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.warn("rate limit: Redis at {} does not answer yet ({}); limits are decided by failure_mode until it does",
          safe(config.url()), e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
    }
    return gcra;
  }

  /** The URL without its password, for logs. */
  public static String safe(String url) {
    return dev.lb.config.ConfigPrinter.maskUrlUserInfo(url);
  }

  private CompletionStage<StatefulRedisConnection<String, String>> connectNow() {
    if (!connecting.compareAndSet(false, true)) {
      return CompletableFuture.failedFuture(new IllegalStateException("connecting"));
    }
    return client.connectAsync(StringCodec.UTF8, uri).whenComplete((c, failure) -> {
      connecting.set(false);
      if (c != null) {
        connection = c;
      }
    });
  }

  @Override
  public CompletionStage<List<ClusterRateLimiter.Grant>> takeAll(List<ClusterRateLimiter.Take> takes) {
    StatefulRedisConnection<String, String> c = connection;
    if (c == null) {
      return CompletableFuture.failedFuture(new IllegalStateException("not connected to Redis"));
    }
    int n = takes.size();
    String[] keys = new String[n];
    String[] args = new String[n * 6];
    for (int i = 0; i < n; i++) {
      ClusterRateLimiter.Take t = takes.get(i);
      keys[i] = PREFIX + t.client();
      args[i * 6] = Long.toString(ClusterRateLimiter.intervalMicros(t.limit()));
      args[i * 6 + 1] = Long.toString(t.limit().capacity());
      args[i * 6 + 2] = Integer.toString(t.want());
      args[i * 6 + 3] = Integer.toString(t.back());
      args[i * 6 + 4] = Integer.toString(t.debt());
      args[i * 6 + 5] = Long.toString(t.debtAgeMicros());
    }
    CompletionStage<List<Object>> answer = script(c, takeSha, TAKE, ScriptOutputType.MULTI, keys, args);
    return answer.thenApply(list -> {
      List<ClusterRateLimiter.Grant> grants = new java.util.ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        grants.add(new ClusterRateLimiter.Grant((int) number(list, i * 4), number(list, i * 4 + 1),
            number(list, i * 4 + 2), number(list, i * 4 + 3)));
      }
      return grants;
    });
  }

  @Override
  public CompletionStage<Integer> heartbeat() {
    StatefulRedisConnection<String, String> c = connection;
    if (c == null) {
      return connectNow().thenCompose(connected -> heartbeat());
    }
    String[] keys = {REPLICAS};
    String[] args = {id, Long.toString(ALIVE_MILLIS)};
    CompletionStage<Long> answer = script(c, heartbeatSha, HEARTBEAT, ScriptOutputType.INTEGER, keys, args);
    return answer.thenApply(Long::intValue);
  }

  /** Runs a script by its SHA-1, or whole when Redis does not have it yet (a restarted or new server). */
  private static <T> CompletionStage<T> script(StatefulRedisConnection<String, String> c, String sha, String script,
      ScriptOutputType type, String[] keys, String[] args) {
    return c.async().<T>evalsha(sha, type, keys, args)
        .exceptionallyCompose(e -> unwrap(e) instanceof RedisNoScriptException
            ? c.async().<T>eval(script, type, keys, args)
            : CompletableFuture.failedFuture(e));
  }

  private static long number(List<Object> list, int i) {
    Object v = list.get(i);
    return v instanceof Number ? ((Number) v).longValue() : Long.parseLong(String.valueOf(v));
  }

  private static Throwable unwrap(Throwable e) {
    return e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
  }

  private static String sha1(String script) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(script.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Leaves the replica set (best effort, briefly: a stopping replica), then closes. */
  @Override
  public void close() {
    StatefulRedisConnection<String, String> c = connection;
    if (c != null) {
      try {
        c.async().zrem(REPLICAS, id).toCompletableFuture().get(1, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Exception e) {
        // Its heartbeat stops: it leaves the count within ALIVE_MILLIS anyway.
      }
      c.close();
    }
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    resources.shutdown(0, 2, TimeUnit.SECONDS);
  }
}
