package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code GET /} in a loop from a few threads until closed, a short pause between requests: every answer that is not
 * a 200 (or does not come) is a failure, and each 200 is counted under its body, which names the test backend that
 * answered.
 */
final class Traffic implements AutoCloseable {
  final List<String> failures = new CopyOnWriteArrayList<>();
  final Map<String, AtomicLong> servedBy = new ConcurrentHashMap<>();
  final AtomicLong requests = new AtomicLong();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final ExecutorService threads;

  Traffic(HttpClient http, int port, int threadCount) {
    threads = Executors.newFixedThreadPool(threadCount);
    for (int t = 0; t < threadCount; t++) {
      threads.submit(() -> {
        while (running.get()) {
          try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
            requests.incrementAndGet();
            if (r.statusCode() != 200) {
              failures.add(r.statusCode() + " " + r.body());
            } else {
              servedBy.computeIfAbsent(r.body(), k -> new AtomicLong()).incrementAndGet();
            }
            Thread.sleep(2);
          } catch (InterruptedException e) {
            return;
          } catch (Exception e) {
            failures.add(e.toString());
          }
        }
      });
    }
  }

  @Override
  public void close() throws InterruptedException {
    running.set(false);
    threads.shutdown();
    assertThat(threads.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
  }
}
