package dev.lb.server.demo;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code lb demo --self-test}: drives a running demo through its public endpoints and reports what it saw: requests
 * spread over the three backends, an upload, the admin endpoints, 429s once the demo's limit is spent, and a client
 * limit created, read and deleted through {@code /clients}. It proves an installation works end to end, and it is the
 * workload recorded into a class-data-sharing archive for a faster start (see the README).
 */
public final class SelfTest {
  private static final Pattern BACKEND = Pattern.compile("\"backend\":\"([^\"]+)\"");

  private final URI proxy;
  private final URI admin;
  private final PrintWriter out;
  private final HttpClient client = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();
  private final List<String> failures = new ArrayList<>();
  private int checks;

  public SelfTest(URI proxy, URI admin, PrintWriter out) {
    this.proxy = proxy;
    this.admin = admin;
    this.out = out;
  }

  /** Runs every check; true when all passed. Each result is printed as it comes. */
  public boolean run() {
    try {
      balancing();
      upload();
      for (String path : List.of("/healthz", "/readyz", "/backends", "/metrics")) {
        check("GET " + path + " on the admin listener answers 200", get(admin.resolve(path)).statusCode() == 200);
      }
      clients();
      rateLimit();
    } catch (IOException e) {
      check("the demo answers (" + e + ")", false);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      check("the self-test was not interrupted", false);
    }
    out.println("self-test: " + (checks - failures.size()) + " of " + checks + " checks passed"
        + (failures.isEmpty() ? "" : "; failed: " + String.join("; ", failures)));
    out.flush();
    return failures.isEmpty();
  }

  private void balancing() throws IOException, InterruptedException {
    Set<String> seen = new TreeSet<>();
    boolean allOk = true;
    for (int i = 0; i < 6; i++) {
      HttpResponse<String> r = get(proxy.resolve("/hello"));
      allOk &= r.statusCode() == 200;
      Matcher m = BACKEND.matcher(r.body());
      if (m.find()) {
        seen.add(m.group(1));
      }
    }
    check("6 GETs through the balancer answer 200", allOk);
    check("round robin reached all three backends " + seen, seen.size() == 3);
  }

  private void upload() throws IOException, InterruptedException {
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.resolve("/upload"))
        .POST(BodyPublishers.ofString("hello from the self-test")).build(), BodyHandlers.ofString(UTF_8));
    check("a POST with a body goes through", r.statusCode() == 200 && r.body().contains("\"method\":\"POST\""));
  }

  private void clients() throws IOException, InterruptedException {
    String id = "self-test-client";
    URI clients = admin.resolve("/clients");
    HttpResponse<String> created = client.send(HttpRequest.newBuilder(clients)
        .header("Content-Type", "application/json")
        .POST(BodyPublishers.ofString("{\"client_id\":\"" + id + "\",\"capacity\":100,\"rate_per_sec\":50}"))
        .build(), BodyHandlers.ofString(UTF_8));
    check("POST /clients creates a limit (201)", created.statusCode() == 201);
    check("GET /clients/" + id + " reads it back (200)", get(clients.resolve("/clients/" + id)).statusCode() == 200);
    HttpResponse<String> deleted = client.send(HttpRequest.newBuilder(clients.resolve("/clients/" + id))
        .DELETE().build(), BodyHandlers.ofString(UTF_8));
    check("DELETE /clients/" + id + " removes it (204)", deleted.statusCode() == 204);
  }

  private void rateLimit() throws IOException, InterruptedException {
    int limited = 0;
    boolean retryAfter = true;
    for (int i = 0; i < 40; i++) {
      HttpResponse<String> r = get(proxy.resolve("/"));
      if (r.statusCode() == 429) {
        limited++;
        retryAfter &= r.headers().firstValue("Retry-After").isPresent();
      }
    }
    check("a burst of 40 requests meets the demo's limit (" + limited + " answered 429, with Retry-After)",
        limited > 0 && retryAfter);
  }

  private HttpResponse<String> get(URI uri) throws IOException, InterruptedException {
    return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET().build(),
        BodyHandlers.ofString(UTF_8));
  }

  private void check(String what, boolean passed) {
    checks++;
    if (!passed) {
      failures.add(what);
    }
    out.println((passed ? "  ok    " : "  FAIL  ") + what);
    out.flush();
  }
}
