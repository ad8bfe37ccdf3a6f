package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lb.it.support.Ports;
import dev.lb.it.support.RawHttpClient;
import dev.lb.it.support.TestBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image's entrypoint for real, outside Docker: {@code sh config/docker/entrypoint.sh serve -c FILE} with a fake
 * 512 MiB cgroup limit, this JVM's java and the fat jar. The process started as {@code sh} must become the JVM itself
 * (exec: same PID, so the container runtime's SIGTERM reaches it), carry the computed flags, serve, and drain and exit
 * 0 on SIGTERM.
 */
class EntrypointIT {
  private static final Duration START = Duration.ofSeconds(30);

  @TempDir Path dir;

  @Test
  void theScriptBecomesTheJvmWithTheComputedFlagsAndExitsZeroOnSigterm() throws Exception {
    assumeTrue(ProcessHandle.current().supportsNormalTermination(), "SIGTERM through Process.destroy()");
    int port = Ports.freePort();
    int adminPort = Ports.freePort();
    Path limit = Files.writeString(dir.resolve("memory.max"), Long.toString(512L * 1024 * 1024) + "\n");
    try (TestBackend backend = TestBackend.start("b1")) {
      Path config = Files.writeString(dir.resolve("lb.yaml"), "listen: { host: 127.0.0.1, port: " + port
          + ", workers: 1 }\n"
          + "admin: { host: 127.0.0.1, port: " + adminPort + " }\n"
          + "backends:\n  - url: " + backend.url() + "\n"
          + "health_check: { enabled: false }\n"
          + "shutdown: { drain_delay: 0s, grace_period: 5s }\n");
      // Through env --default-signal where it exists, like every jar the tests signal (env execs: same PID).
      List<String> command = new java.util.ArrayList<>(JarProcess.DEFAULT_SIGNALS);
      command.addAll(List.of("sh", DeployFiles.file("config/docker/entrypoint.sh").toString(), "serve", "-c",
          config.toString()));
      ProcessBuilder builder = new ProcessBuilder(command)
          .directory(dir.toFile())
          .redirectOutput(dir.resolve("stdout.txt").toFile())
          .redirectError(dir.resolve("stderr.txt").toFile());
      builder.environment().keySet().removeIf(k -> k.startsWith("LB_") || k.equals("JAVA_OPTS"));
      builder.environment().put("LB_JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
      builder.environment().put("LB_JAR", JarProcess.jar().toString());
      builder.environment().put("LB_CGROUP_MEMORY_FILE", limit.toString());
      builder.environment().put("JAVA_OPTS", "-Dio.netty.leakDetection.level=paranoid");
      Process process = builder.start();
      try {
        await("/healthz on " + adminPort).atMost(START).pollInterval(Duration.ofMillis(100))
            .ignoreExceptionsInstanceOf(IOException.class).until(() -> {
              if (!process.isAlive()) {
                throw new AssertionError("ended early: " + output());
              }
              try (RawHttpClient client = RawHttpClient.connect(adminPort)) {
                return client.get("/healthz").readResponse().status() == 200;
              }
            });

        ProcessHandle.Info info = ProcessHandle.of(process.pid()).orElseThrow().info();
        assertThat(info.command().orElse("")).as("the command of PID %d, started as sh", process.pid())
            .endsWith("/java");
        assertThat(List.of(info.arguments().orElse(new String[0])))
            .as("the JVM's arguments")
            .containsSubsequence("-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError", "-XX:MaxRAMPercentage=45.0",
                "-XX:MaxDirectMemorySize=128m", "-Dio.netty.leakDetection.level=paranoid", "-jar");

        try (RawHttpClient client = RawHttpClient.connect(port)) {
          assertThat(client.get("/").readResponse().bodyString()).isEqualTo("b1");
        }

        process.destroy();   // SIGTERM to the PID the runtime would signal
        assertThat(process.waitFor(START.toSeconds(), TimeUnit.SECONDS)).as("exited after SIGTERM").isTrue();
        assertThat(process.exitValue()).as("exit code after SIGTERM; %s", output()).isZero();
        assertThat(output()).doesNotContain("LEAK:");
      } finally {
        // Were the script to run java as a child instead of exec-ing it, killing sh alone would orphan the JVM.
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        if (process.isAlive()) {
          process.destroyForcibly();
          process.waitFor(10, TimeUnit.SECONDS);
        }
      }
    }
  }

  private String output() throws IOException {
    return "stdout:\n" + Files.readString(dir.resolve("stdout.txt")) + "\nstderr:\n"
        + Files.readString(dir.resolve("stderr.txt"));
  }
}
