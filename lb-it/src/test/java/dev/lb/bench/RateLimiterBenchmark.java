package dev.lb.bench;

import dev.lb.config.KeySource;
import dev.lb.ratelimit.CidrSet;
import dev.lb.ratelimit.ClientKeys;
import dev.lb.ratelimit.Decision;
import dev.lb.ratelimit.Limit;
import dev.lb.ratelimit.LimitRegistry;
import dev.lb.ratelimit.LocalRateLimiter;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.NetUtil;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The rate limiter's share of every request: finding the client's key, then its bucket, then a token.
 *
 * <ul>
 *   <li>{@code tryAcquire}: {@link LocalRateLimiter#tryAcquire} over {@code keys} clients whose buckets already exist
 *       (1: one hot client; 10,000 and 100,000: a map of buckets that outgrows the CPU caches, so the lookup misses).
 *       Keys are IPv4 addresses in text, as lb keys clients, drawn by a per-thread xorshift; the default limit is too
 *       large to run out. The clock is {@link System#nanoTime()}, read once per call as in production. The limiter
 *       does not sweep here (in production a sweep drops full buckets every second, and those clients' next request
 *       makes a new one: that path is not measured). The keys' hash codes are cached in the strings, as they are for
 *       a connection's own address.
 *   <li>{@code tryAcquireTwoThreads}: the same from two threads (two event loops), each drawing its own keys.
 *   <li>{@code drawKey}: the key draw alone, reading the key's cached hash code (so that, with many keys, the cache
 *       miss on the key itself, which a connection's own key would not have, is in the baseline too): subtract it.
 *   <li>{@code keyOf*}: {@link ClientKeys#keyOf} on a decoded browser request: {@code keyOfDirect} from an untrusted
 *       peer (the key is the peer's address, known per connection); {@code keyOfBehindProxy} from a trusted proxy,
 *       walking a three-hop {@code X-Forwarded-For} from the right to the first untrusted hop; {@code keyOfApiKey}
 *       for {@code client_key: header:X-API-Key}. The last two run for every request.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-XX:+UseG1GC", "-Xms1g", "-Xmx1g"})
public class RateLimiterBenchmark {

  /** A limiter holding a bucket for each of {@code keys} clients. */
  @State(Scope.Benchmark)
  public static class Limiter {
    @Param({"1", "10000", "100000"})
    int keys;

    LocalRateLimiter limiter;
    String[] clients;

    @Setup(Level.Trial)
    public void setUp() {
      LimitRegistry registry = new LimitRegistry(new Limit(Limit.MAX_CAPACITY, Limit.MAX_RATE), Map.of());
      limiter = new LocalRateLimiter(registry, System::nanoTime, LocalRateLimiter.DEFAULT_MAX_BUCKETS, false);
      clients = new String[keys];
      Decision decision = new Decision();
      for (int i = 0; i < keys; i++) {
        // 10.0.0.0/8 and up, in canonical text: the keys lb makes from peer addresses.
        int a = 0x0a000001 + i;
        clients[i] = NetUtil.bytesToIpAddress(new byte[] {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8),
            (byte) a});
        limiter.tryAcquire(clients[i], decision);
      }
      if (limiter.size() != keys) {
        throw new IllegalStateException(limiter.size() + " buckets for " + keys + " clients");
      }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      if (limiter.size() != keys) {
        throw new IllegalStateException("buckets made during the run: " + limiter.size() + " for " + keys);
      }
      limiter.close();
    }
  }

  /** A thread's key draw and its reusable decision (one per connection in production). */
  @State(Scope.Thread)
  public static class Draw {
    long x = System.nanoTime() | 1;
    final Decision decision = new Decision();
    long refused;

    /** A client index from 0 to {@code n}: xorshift64, then a multiply-shift into range (no division). */
    int next(int n) {
      long s = x;
      s ^= s << 13;
      s ^= s >>> 7;
      s ^= s << 17;
      x = s;
      return (int) (((s >>> 32) * n) >>> 32);
    }

    @TearDown(Level.Iteration)
    public void check() {
      if (refused != 0) {
        throw new IllegalStateException(refused + " requests refused under a limit that should grant them all");
      }
    }
  }

  /** Client keys from browser-like requests. */
  @State(Scope.Benchmark)
  public static class Keys {
    static final String BROWSER = Heads.BROWSER_REQUEST
        + "X-API-Key: k_live_51HgGqJ2eZvKYlo2C8d7sVx0aX\r\n";

    final ClientKeys byAddress = new ClientKeys(KeySource.CLIENT_ADDRESS,
        CidrSet.parse(List.of("10.0.0.0/8", "192.168.0.0/16")));
    final ClientKeys byApiKey = new ClientKeys(new KeySource("X-API-Key"), CidrSet.EMPTY);
    final byte[] untrustedPeer = {(byte) 198, 51, 100, 23};
    final String untrustedPeerKey = "198.51.100.23";
    final byte[] proxyPeer = {10, 1, 2, 3};
    final String proxyPeerKey = "10.1.2.3";
    ClientKeys.Headers direct;
    ClientKeys.Headers proxied;

    @Setup(Level.Trial)
    public void setUp() {
      direct = view(Heads.request(BROWSER + "Connection: keep-alive\r\n\r\n"));
      // client, its corporate proxy, then lb's own front proxy (trusted); the peer is another trusted proxy.
      proxied = view(Heads.request(BROWSER + "X-Forwarded-For: 203.0.113.7, 198.51.100.23, 10.20.30.40\r\n"
          + "Connection: keep-alive\r\n\r\n"));
      String key = byAddress.keyOf(proxyPeer, proxyPeerKey, proxied);
      if (!key.equals("198.51.100.23")) {
        throw new IllegalStateException("behind proxies, the key is " + key);
      }
      key = byApiKey.keyOf(untrustedPeer, untrustedPeerKey, direct);
      if (!key.equals("k_live_51HgGqJ2eZvKYlo2C8d7sVx0aX")) {
        throw new IllegalStateException("by API key, the key is " + key);
      }
    }

    /** Decoded headers as the rate-limit handler hands them to the key. */
    static ClientKeys.Headers view(HttpHeaders headers) {
      return new ClientKeys.Headers() {
        @Override
        public String get(String name) {
          return headers.get(name);
        }

        @Override
        public List<String> getAll(String name) {
          return headers.getAll(name);
        }
      };
    }
  }

  @Benchmark
  public int drawKey(Limiter limiter, Draw draw) {
    return limiter.clients[draw.next(limiter.keys)].hashCode();
  }

  @Benchmark
  public void tryAcquire(Limiter limiter, Draw draw, Blackhole bh) {
    acquire(limiter, draw, bh);
  }

  @Benchmark
  @Threads(2)
  public void tryAcquireTwoThreads(Limiter limiter, Draw draw, Blackhole bh) {
    acquire(limiter, draw, bh);
  }

  private static void acquire(Limiter limiter, Draw draw, Blackhole bh) {
    String client = limiter.clients[draw.next(limiter.keys)];
    boolean ok = limiter.limiter.tryAcquire(client, draw.decision);
    if (!ok) {
      draw.refused++;
    }
    bh.consume(ok);
    bh.consume(draw.decision.remaining());
  }

  @Benchmark
  public String keyOfDirect(Keys keys) {
    return keys.byAddress.keyOf(keys.untrustedPeer, keys.untrustedPeerKey, keys.direct);
  }

  @Benchmark
  public String keyOfBehindProxy(Keys keys) {
    return keys.byAddress.keyOf(keys.proxyPeer, keys.proxyPeerKey, keys.proxied);
  }

  @Benchmark
  public String keyOfApiKey(Keys keys) {
    return keys.byApiKey.keyOf(keys.untrustedPeer, keys.untrustedPeerKey, keys.direct);
  }
}
