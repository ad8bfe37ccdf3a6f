package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lb.it.support.TestBackend;
import dev.lb.it.support.TestBackends;
import java.io.File;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The status page in a real browser: headless Chromium, driven through Debian's chromedriver (the paths are given,
 * so nothing is downloaded), loads {@code /status} while traffic runs; a backend stopped mid-test turns DOWN on the
 * page by itself, the request counts grow between refreshes, and a screenshot is left under
 * {@code target/status-page/} for a person to look at. Skipped where Chromium or its driver is not installed
 * ({@code apt-get install chromium chromium-driver}; {@code .ci/run} installs both).
 */
class StatusPageBrowserIT {
  private static final Path CHROMIUM = Path.of(System.getProperty("lb.chromium", "/usr/bin/chromium"));
  private static final Path CHROMEDRIVER = Path.of(System.getProperty("lb.chromedriver", "/usr/bin/chromedriver"));
  private static final Path SHOTS = Path.of("target", "status-page");

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  @AutoClose private final TestBackends backends = new TestBackends();
  private ChromeDriver browser;

  @BeforeEach
  void openBrowser() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        "Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--disable-extensions", "--window-size=1600,1000");
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort()
        .withTimeout(Duration.ofSeconds(60))
        .build();
    browser = new ChromeDriver(service, options);
    browser.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60));
    Files.createDirectories(SHOTS);
  }

  @AfterEach
  void close() {
    if (browser != null) {
      browser.quit();
    }
  }


  private WebElement row(String url) {
    return browser.findElement(By.cssSelector("#backends tr[data-url='" + url + "']"));
  }

  /**
   * The text of one cell of a backend's row. The page rebuilds its rows at every refresh, so a row found just before
   * one may be gone when its cell is read: read again, a few times.
   */
  private String cell(String url, String cls) {
    return text(() -> row(url).findElement(By.cssSelector("td." + cls)));
  }

  /** The text of what {@code find} finds, found again if the page rebuilt it in between. */
  private static String text(java.util.function.Supplier<WebElement> find) {
    for (int attempt = 1; ; attempt++) {
      try {
        return find.get().getText();
      } catch (org.openqa.selenium.StaleElementReferenceException rebuilt) {
        if (attempt == 10) {
          throw rebuilt;
        }
      }
    }
  }

  private static long number(String text) {
    return Long.parseLong(text.replace(",", "").trim());
  }

  private void screenshot(String name) throws Exception {
    File shot = browser.getScreenshotAs(OutputType.FILE);
    Files.copy(shot.toPath(), SHOTS.resolve(name), StandardCopyOption.REPLACE_EXISTING);
  }

  @Test
  void thePageFollowsTrafficAndShowsAStoppedBackendDown() throws Exception {
    TestBackend b1 = backends.start("b1");
    TestBackend b2 = backends.start("b2");
    TestBackend b3 = backends.start("b3");
    try (Lb lb = Lb.builder().workers(2)
        .backendLine("{url: \"" + b1.url() + "\", name: web-1}")
        .backendLine("{url: \"" + b2.url() + "\", name: web-2}")
        .backend(b3.url())
        .set("health_check.enabled", "true")
        .set("health_check.interval", "500ms")
        .set("health_check.timeout", "1s")
        .set("health_check.unhealthy_threshold", "2")
        .start();
        Traffic traffic = new Traffic(http, lb.port(), 3)) {
      browser.get("http://127.0.0.1:" + lb.adminPort() + "/status");
      await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
          .until(() -> number(cell(b1.url(), "requests")) > 0 && number(cell(b2.url(), "requests")) > 0);
      assertThat(browser.getTitle()).isEqualTo("lb status");
      assertThat(cell(b1.url(), "state")).startsWith("UP");
      assertThat(text(() -> row(b1.url()))).contains("web-1");
      assertThat(browser.findElement(By.id("g-transport")).getText()).contains("2 workers");

      // The counts grow from one refresh to the next, with no reload of the page.
      // The stamp first: a refresh between the two reads then only makes the wait shorter.
      String updated = browser.findElement(By.tagName("body")).getDomAttribute("data-updated");
      long before = number(cell(b1.url(), "requests"));
      await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
          .until(() -> number(cell(b1.url(), "requests")) > before
              && !updated.equals(browser.findElement(By.tagName("body")).getDomAttribute("data-updated")));
      assertThat(cell(b1.url(), "p99")).matches("[0-9.]+");

      b2.stop();
      // Two failing probes half a second apart, then the next refresh: well within the wait on a busy machine.
      await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
          .until(() -> cell(b2.url(), "state").startsWith("DOWN"));
      assertThat(cell(b2.url(), "check")).contains("connection refused");
      assertThat(cell(b1.url(), "state")).startsWith("UP");
      screenshot("status-page.png");

      // Paused, the page stops following.
      browser.findElement(By.id("pause")).click();
      assertThat(browser.findElement(By.id("pause")).getText()).isEqualTo("Resume");
      String paused = browser.findElement(By.tagName("body")).getDomAttribute("data-updated");
      Thread.sleep(5_000);
      assertThat(browser.findElement(By.tagName("body")).getDomAttribute("data-updated")).isEqualTo(paused);
      assertThat(browser.findElement(By.id("pause")).getText()).isEqualTo("Resume");

      // On a phone's width each backend is a card of labelled lines.
      browser.manage().window().setSize(new Dimension(400, 900));
      await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
          .until(() -> !browser.findElement(By.cssSelector("#backends thead")).isDisplayed());
      screenshot("status-page-phone.png");
    }
    assertThat(SHOTS.resolve("status-page.png")).isNotEmptyFile();
  }

  @Test
  void backendsOfSeveralUpstreamsAreGroupedUnderTheirNames() throws Exception {
    TestBackend site = backends.start("site");
    TestBackend api = backends.start("api");
    try (Lb lb = Lb.builder()
        .backend(site.url())
        .set("upstreams.api", "{ backends: [\"" + api.url() + "\"] }")
        .yaml("routes: [ { path_prefix: /api/, upstream: api } ]")
        .start()) {
      browser.get("http://127.0.0.1:" + lb.adminPort() + "/status");
      await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
          .until(() -> browser.findElements(By.cssSelector("#backends tbody tr")).size() == 4);
      List<String> rows = await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(
          () -> browser.findElements(By.cssSelector("#backends tbody tr")).stream().map(WebElement::getText).toList(),
          list -> list.size() == 4);
      assertThat(rows.get(0)).isEqualTo("upstream default");
      assertThat(rows.get(1)).contains(site.url());
      assertThat(rows.get(2)).isEqualTo("upstream api");
      assertThat(rows.get(3)).contains(api.url());
    }
  }
}
