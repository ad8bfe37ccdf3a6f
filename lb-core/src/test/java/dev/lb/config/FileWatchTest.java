package dev.lb.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The watch of the configuration file and the certificates: what counts as a change, and when it is reported. */
class FileWatchTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;
  private final List<String> seen = new CopyOnWriteArrayList<>();
  private FileWatch watch;

  @AfterEach
  void close() {
    if (watch != null) {
      watch.close();
    }
  }

  /** Watches {@code file}, recording its contents at each change. */
  private FileWatch watch(Path file, Duration interval, Duration quiet) {
    watch = new FileWatch("test-watch", () -> new FileWatch.Watched(List.of(file), interval, quiet),
        () -> seen.add(read(file)), FileWatch.signature(List.of(file)));
    return watch;
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return "(missing)";
    }
  }

  private static void write(Path file, String text) {
    try {
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void anEditIsReportedOnceTheFileHasBeenQuiet() throws Exception {
    Path file = dir.resolve("lb.yaml");
    write(file, "one");
    watch(file, Duration.ofMillis(50), Duration.ofMillis(200));
    write(file, "two");
    await().atMost(WAIT).until(() -> seen.size() == 1);
    assertThat(seen).containsExactly("two");
    await().during(Duration.ofSeconds(1)).atMost(WAIT).until(() -> seen.size() == 1);
  }

  @Test
  void aTouchOrTheSameContentWrittenAgainIsNotAChange() throws Exception {
    Path file = dir.resolve("lb.yaml");
    write(file, "same");
    watch(file, Duration.ofMillis(50), Duration.ZERO);
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(60)));
    write(file, "same");
    await().during(Duration.ofSeconds(1)).atMost(WAIT).until(seen::isEmpty);
  }

  @Test
  void aConfigMapVolumesSymlinkSwapIsAChange() throws Exception {
    // What the kubelet does: files in a timestamped directory, ..data a symlink to it, each file a symlink through
    // ..data; an update writes a new directory and renames a new ..data symlink over the old one.
    Path first = Files.createDirectory(dir.resolve("..2026_12_07_10_00_00.1"));
    write(first.resolve("lb.yaml"), "first");
    Files.createSymbolicLink(dir.resolve("..data"), first.getFileName());
    Path file = Files.createSymbolicLink(dir.resolve("lb.yaml"), Path.of("..data/lb.yaml"));
    watch(file, Duration.ofMillis(50), Duration.ofMillis(100));

    Path second = Files.createDirectory(dir.resolve("..2026_12_07_10_01_00.2"));
    write(second.resolve("lb.yaml"), "second");
    Path swap = Files.createSymbolicLink(dir.resolve("..data_tmp"), second.getFileName());
    Files.move(swap, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    Files.delete(first.resolve("lb.yaml"));
    Files.delete(first);

    await().atMost(WAIT).until(() -> seen.size() == 1);
    assertThat(seen).containsExactly("second");
  }

  @Test
  void aBurstOfWritesIsOneChangeForTheLastOfThem() throws Exception {
    Path file = dir.resolve("lb.yaml");
    write(file, "v0");
    // Looked at every 20 ms, so the watch sees many of the writes; reported only after 1.5 s without one.
    watch(file, Duration.ofMillis(20), Duration.ofMillis(1500));
    for (int i = 1; i <= 30; i++) {
      write(file, "v" + i);
      Thread.sleep(20);
    }
    await().atMost(WAIT).until(() -> seen.size() == 1);
    assertThat(seen).containsExactly("v30");
    await().during(Duration.ofSeconds(2)).atMost(WAIT).until(() -> seen.size() == 1);
  }

  @Test
  void aChangeSomethingElseAlreadyReadIsNotReportedAgain() throws Exception {
    Path file = dir.resolve("lb.yaml");
    write(file, "one");
    watch(file, Duration.ofMillis(50), Duration.ofSeconds(3));
    // A reload (SIGHUP) reads the file and tells the watch what it read.
    write(file, "two");
    watch.seen(FileWatch.signature(List.of(file)));
    await().during(Duration.ofSeconds(1)).atMost(WAIT).until(seen::isEmpty);
    // A later change is reported as usual.
    write(file, "three");
    await().atMost(WAIT).until(() -> seen.size() == 1);
    assertThat(seen).containsExactly("three");
  }

  @Test
  void aFileThatGoesAwayAndComesBackIsTwoChanges() throws Exception {
    Path file = dir.resolve("lb.yaml");
    write(file, "one");
    watch(file, Duration.ofMillis(50), Duration.ZERO);
    Files.delete(file);
    await().atMost(WAIT).until(() -> seen.size() == 1);
    write(file, "two");
    await().atMost(WAIT).until(() -> seen.size() == 2);
    assertThat(seen).containsExactly("(missing)", "two");
  }

  @Test
  void nothingIsWatchedWhileTheSourceSaysSoAndChangesCountOnceItIsOn() throws Exception {
    Path file = dir.resolve("lb.yaml");
    write(file, "one");
    AtomicReference<FileWatch.Watched> source = new AtomicReference<>();
    watch = new FileWatch("test-watch", source::get, () -> seen.add(read(file)), FileWatch.signature(List.of(file)));
    write(file, "two");
    await().during(Duration.ofMillis(1500)).atMost(WAIT).until(seen::isEmpty);
    // Turned on by a reload, which read the file as it is now.
    watch.seen(FileWatch.signature(List.of(file)));
    source.set(new FileWatch.Watched(List.of(file), Duration.ofMillis(50), Duration.ofSeconds(1)));
    write(file, "three");
    await().atMost(WAIT).until(() -> seen.size() == 1);
    assertThat(seen).containsExactly("three");
  }

  @Test
  void closingLetsAReactionUnderWayFinishUninterruptedAndStopsTheLooks() throws Exception {
    Path file = dir.resolve("lb.yaml");
    write(file, "one");
    java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
    List<String> ends = new CopyOnWriteArrayList<>();
    watch = new FileWatch("test-watch", () -> new FileWatch.Watched(List.of(file), Duration.ofMillis(50),
        Duration.ZERO), () -> {
          started.countDown();
          try {
            Thread.sleep(500);   // a reload reading a file, reaching a store...
            ends.add("finished");
          } catch (InterruptedException e) {
            ends.add("interrupted");
          }
        }, FileWatch.signature(List.of(file)));
    write(file, "two");
    assertThat(started.await(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    watch.close();   // as a drain starts
    await().atMost(WAIT).until(() -> !ends.isEmpty());
    write(file, "three");
    await().during(Duration.ofSeconds(1)).atMost(WAIT).until(() -> ends.size() == 1);
    assertThat(ends).containsExactly("finished");
  }

  @Test
  void theSignatureIsOfTheContentsInOrder() throws Exception {
    Path a = dir.resolve("a.pem");
    Path b = dir.resolve("b.pem");
    write(a, "a");
    write(b, "b");
    String ab = FileWatch.signature(List.of(a, b));
    assertThat(FileWatch.signature(List.of(b, a))).isNotEqualTo(ab);
    Files.setLastModifiedTime(a, FileTime.from(Instant.now().minusSeconds(3600)));
    assertThat(FileWatch.signature(List.of(a, b))).isEqualTo(ab);
    write(a, "A");
    assertThat(FileWatch.signature(List.of(a, b))).isNotEqualTo(ab);
    assertThat(FileWatch.signature(List.of(dir.resolve("none")))).contains("missing");
  }
}
