package dev.lb.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lb.config.ConfigException;
import dev.lb.config.ConfigLoader;
import dev.lb.config.LbConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The image: {@code config/Dockerfile} (base, user, working directory, ports, entrypoint, build context) and the
 * entrypoint script's JVM sizing, run with {@code sh} in dry-run mode against fake cgroup files.
 */
class ContainerFilesTest {
  private static final String DOCKERFILE = "config/Dockerfile";
  private static final String SCRIPT = "config/docker/entrypoint.sh";
  private static final long MIB = 1024 * 1024;

  @TempDir Path dir;

  // --- the Dockerfile ---

  @Test
  void theRuntimeImageIsAGlibcJre21() {
    String from = runtimeStage().get(0).arguments();
    assertThat(from).as(DOCKERFILE + ": the last FROM (the runtime image)")
        .startsWith("eclipse-temurin:21-jre")
        .doesNotContainIgnoringCase("alpine");
  }

  @Test
  void itRunsAsANumericNonRootUserFromAWritableWorkdir() {
    assertThat(instruction("USER")).as(DOCKERFILE + ": USER uid:gid, numeric (runAsNonRoot checks it)")
        .matches("\\d+:\\d+");
    assertThat(imageUser()).as(DOCKERFILE + ": USER's uid").isNotZero();
    String run = runtimeStage().stream().filter(i -> i.name().equals("RUN")).map(Instruction::arguments)
        .reduce("", (a, b) -> a + "\n" + b);
    assertThat(run).as(DOCKERFILE + ": RUN gives the user its working directory")
        .contains("chown " + imageUser() + ":" + imageGroup() + " " + imageWorkdir());
  }

  @Test
  void itExposesTheDefaultProxyAndAdminPorts() throws ConfigException {
    LbConfig defaults = ConfigLoader.load(DeployFiles.file("config/lb.yaml"), Map.of());
    assertThat(instruction("EXPOSE").split("\\s+")).as(DOCKERFILE + ": EXPOSE (listen.port and admin.port of"
        + " config/lb.yaml)").containsExactlyInAnyOrder(Integer.toString(defaults.listen().port()),
        Integer.toString(defaults.admin().port()));
  }

  @Test
  void theEntrypointIsTheScriptInExecFormAndTheDefaultCommandServesTheImagesConfig() throws IOException {
    ObjectMapper json = new ObjectMapper();
    JsonNode entrypoint = json.readTree(instruction("ENTRYPOINT"));
    assertThat(entrypoint.isArray() && entrypoint.size() == 1)
        .as(DOCKERFILE + ": ENTRYPOINT in exec form, the script alone (a shell form would put sh in front of it, and"
            + " signals would not reach java)").isTrue();
    String script = entrypoint.get(0).asText();
    assertThat(copies()).as(DOCKERFILE + ": COPY of " + SCRIPT + " to the ENTRYPOINT").containsEntry(script, SCRIPT);
    assertThat(copyFlags(script)).as(DOCKERFILE + ": COPY of the script makes it executable").contains("--chmod=0755");

    JsonNode cmd = json.readTree(instruction("CMD"));
    List<String> command = new ArrayList<>();
    cmd.forEach(c -> command.add(c.asText()));
    assertThat(command).as(DOCKERFILE + ": CMD").containsExactly("serve", "-c", "/etc/lb/lb.yaml");
    assertThat(copies()).as(DOCKERFILE + ": a default configuration where CMD reads it")
        .containsEntry("/etc/lb/lb.yaml", "config/lb.yaml");
  }

  @Test
  void everyFileTheDockerfileCopiesIsLetThroughByItsDockerignore() {
    List<String> allowed = DeployFiles.read(DOCKERFILE + ".dockerignore").lines()
        .map(String::strip)
        .filter(l -> l.startsWith("!"))
        .map(l -> l.substring(1).replaceAll("/$", ""))
        .toList();
    for (Instruction copy : allInstructions()) {
      if (!copy.name().equals("COPY") || copy.arguments().contains("--from=")) {
        continue;
      }
      List<String> words = words(copy.arguments());
      for (String source : words.subList(0, words.size() - 1)) {
        String path = source.replaceAll("/$", "");
        boolean let = allowed.stream().anyMatch(a -> a.equals(path) || a.startsWith(path + "/")
            || path.startsWith(a + "/"));
        assertThat(let).as("%s: COPY %s: %s.dockerignore lets nothing of it through (allowed: %s)", DOCKERFILE,
            source, DOCKERFILE, allowed).isTrue();
        if (!path.startsWith("lb-server/target/")) {
          assertThat(DeployFiles.root().resolve(path)).as(DOCKERFILE + ": COPY " + source).exists();
        }
      }
    }
  }

  @Test
  void theScriptIsAnExecutablePosixShellScriptThatExecsJava() {
    String text = DeployFiles.read(SCRIPT);
    assertThat(text.lines().findFirst().orElse("")).as(SCRIPT + ": first line").isEqualTo("#!/bin/sh");
    assertThat(Files.isExecutable(DeployFiles.file(SCRIPT))).as(SCRIPT + ": executable").isTrue();
    assertThat(text).as(SCRIPT + ": replaces itself with java").contains("exec \"$java\" \"$@\"");
  }

  // --- the entrypoint's JVM sizing ---

  @ParameterizedTest(name = "memory.max {0}: heap {1}, direct {2}")
  @CsvSource({
      "536870912, -XX:MaxRAMPercentage=45.0, -XX:MaxDirectMemorySize=128m",     // 512Mi
      "1073741824, -XX:MaxRAMPercentage=45.0, -XX:MaxDirectMemorySize=256m",    // 1Gi
      "1610612736, -XX:MaxRAMPercentage=45.0, -XX:MaxDirectMemorySize=384m",    // 1.5Gi
      "4294967296, -XX:MaxRAMPercentage=45.0, -XX:MaxDirectMemorySize=1024m",   // 4Gi
  })
  void aMemoryLimitSizesHeapAndDirectMemory(long limit, String heap, String direct) throws Exception {
    Path file = write("memory.max", limit + "\n");
    Run run = entrypoint(Map.of("LB_CGROUP_MEMORY_FILE", file.toString()), "serve", "-c", "/etc/lb/lb.yaml");
    assertThat(run.command()).as("%s with a limit of %d MiB", SCRIPT, limit / MIB)
        .containsExactly("java", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError", heap, direct,
            "-jar", "/app/lb.jar", "serve", "-c", "/etc/lb/lb.yaml");
  }

  @ParameterizedTest(name = "memory.max \"{0}\": JVM defaults")
  @CsvSource({"max", "''", "garbage", "0", "9223372036854771712", "99999999999999999999999"})
  void noLimitLeavesTheJvmDefaults(String content) throws Exception {
    Path file = write("memory.max", content + "\n");
    Run run = entrypoint(Map.of("LB_CGROUP_MEMORY_FILE", file.toString()), "serve");
    assertThat(run.command()).as("%s with memory.max %s", SCRIPT, content)
        .containsExactly("java", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError", "-jar", "/app/lb.jar", "serve");
  }

  @Test
  void aMissingLimitFileLeavesTheJvmDefaults() throws Exception {
    Run run = entrypoint(Map.of("LB_CGROUP_MEMORY_FILE", dir.resolve("absent").toString()));
    assertThat(run.command()).containsExactly("java", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError", "-jar",
        "/app/lb.jar");
  }

  @Test
  void aClassDataArchiveThatIsThereIsUsedAndOneThatIsNotAddsNothing() throws Exception {
    Path archive = write("lb.jsa", "archive");
    Run with = entrypoint(Map.of("LB_CDS_ARCHIVE", archive.toString(),
        "LB_CGROUP_MEMORY_FILE", dir.resolve("absent").toString()), "serve");
    assertThat(with.command()).containsExactly("java", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError",
        "-XX:SharedArchiveFile=" + archive, "-jar", "/app/lb.jar", "serve");

    Run without = entrypoint(Map.of("LB_CDS_ARCHIVE", dir.resolve("absent.jsa").toString(),
        "LB_CGROUP_MEMORY_FILE", dir.resolve("absent").toString()), "serve");
    assertThat(without.command()).noneMatch(a -> a.startsWith("-XX:SharedArchiveFile"));
  }

  @Test
  void theImageRecordsItsClassDataArchiveFromTheSelfTest() throws Exception {
    String dockerfile = DeployFiles.read(DOCKERFILE);
    int jar = dockerfile.indexOf("COPY --from=jar /lb.jar /app/lb.jar");
    int archive = dockerfile.indexOf("-XX:ArchiveClassesAtExit=/app/lb.jsa");
    assertThat(jar).as("the jar is copied in").isPositive();
    assertThat(archive).as("the archive is recorded after the jar is in place").isGreaterThan(jar);
    assertThat(dockerfile.substring(archive)).contains("-jar /app/lb.jar demo --self-test");
  }

  @Test
  void cgroupV2IsReadBeforeCgroupV1() throws Exception {
    Path root = Files.createDirectories(dir.resolve("cgroup"));
    Files.createDirectories(root.resolve("memory"));
    Files.writeString(root.resolve("memory/memory.limit_in_bytes"), 2048 * MIB + "\n");
    Run v1 = entrypoint(Map.of("LB_CGROUP_ROOT", root.toString()));
    assertThat(v1.command()).as("cgroup v1 memory/memory.limit_in_bytes").contains("-XX:MaxDirectMemorySize=512m");

    Files.writeString(root.resolve("memory.max"), 512 * MIB + "\n");
    Run v2 = entrypoint(Map.of("LB_CGROUP_ROOT", root.toString()));
    assertThat(v2.command()).as("cgroup v2 memory.max, present with v1").contains("-XX:MaxDirectMemorySize=128m")
        .doesNotContain("-XX:MaxDirectMemorySize=512m");

    Files.writeString(root.resolve("memory.max"), "max\n");
    Run unlimited = entrypoint(Map.of("LB_CGROUP_ROOT", root.toString()));
    assertThat(unlimited.command()).as("cgroup v2 memory.max \"max\"").noneMatch(a -> a.startsWith("-XX:Max"));
  }

  @Test
  void percentagesCanBeChanged() throws Exception {
    Path file = write("memory.max", Long.toString(1024 * MIB));
    Run run = entrypoint(Map.of("LB_CGROUP_MEMORY_FILE", file.toString(), "LB_HEAP_PERCENT", "60",
        "LB_DIRECT_PERCENT", "20"));
    assertThat(run.command()).contains("-XX:MaxRAMPercentage=60.0", "-XX:MaxDirectMemorySize=204m");
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource({
      "LB_HEAP_PERCENT, 0, LB_HEAP_PERCENT: 0 (expected: an integer from 1 to 90)",
      "LB_HEAP_PERCENT, 45.5, LB_HEAP_PERCENT: 45.5 (expected: an integer from 1 to 90)",
      "LB_DIRECT_PERCENT, 91, LB_DIRECT_PERCENT: 91 (expected: an integer from 1 to 90)",
      "LB_DIRECT_PERCENT, 99999999999999999999, LB_DIRECT_PERCENT: 99999999999999999999 (expected: an integer from 1 to 90)",
      "LB_HEAP_PERCENT, 70, LB_HEAP_PERCENT + LB_DIRECT_PERCENT: 70 + 25 (expected: at most 90)",
  })
  void badPercentagesStopWithExitCode2(String variable, String value, String message) throws Exception {
    Run run = entrypoint(Map.of(variable, value));
    assertThat(run.exit()).as("exit code; stderr: %s", run.stderr()).isEqualTo(2);
    assertThat(run.stderr().strip()).isEqualTo("entrypoint: " + message);
    assertThat(run.stdout()).isEmpty();
  }

  @Test
  void javaOptsComeAfterTheComputedFlagsSoTheyWinAndArgumentsPassUnchanged() throws Exception {
    Path file = write("memory.max", Long.toString(512 * MIB));
    Run run = entrypoint(Map.of("LB_CGROUP_MEMORY_FILE", file.toString(),
            "JAVA_OPTS", "-XX:MaxDirectMemorySize=64m  -Dx=*", "LB_JAVA", "/opt/java/bin/java", "LB_JAR", "/x/lb.jar"),
        "backend", "--port", "8081", "--name", "a name with spaces", "*");
    assertThat(run.command()).containsExactly("/opt/java/bin/java", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError",
        "-XX:MaxRAMPercentage=45.0", "-XX:MaxDirectMemorySize=128m", "-XX:MaxDirectMemorySize=64m", "-Dx=*",
        "-jar", "/x/lb.jar", "backend", "--port", "8081", "--name", "a name with spaces", "*");
  }

  // --- helpers, also used by DeploymentFilesTest ---

  /** The uid of the Dockerfile's USER. */
  static int imageUser() {
    return Integer.parseInt(instruction("USER").split(":")[0]);
  }

  /** The gid of the Dockerfile's USER. */
  static int imageGroup() {
    return Integer.parseInt(instruction("USER").split(":")[1]);
  }

  /** The runtime image's WORKDIR. */
  static String imageWorkdir() {
    return instruction("WORKDIR");
  }

  record Instruction(String name, String arguments) {}

  /** The Dockerfile's instructions, continuation lines joined, comments left out. */
  static List<Instruction> allInstructions() {
    List<Instruction> instructions = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : DeployFiles.read(DOCKERFILE).lines().toList()) {
      String stripped = line.strip();
      if (stripped.startsWith("#") || stripped.isEmpty() && current.length() == 0) {
        continue;
      }
      if (stripped.endsWith("\\")) {
        current.append(stripped, 0, stripped.length() - 1).append(' ');
        continue;
      }
      current.append(stripped);
      String text = current.toString().strip();
      current.setLength(0);
      if (!text.isEmpty()) {
        int space = text.indexOf(' ');
        instructions.add(new Instruction(text.substring(0, space).toUpperCase(), text.substring(space + 1).strip()));
      }
    }
    return instructions;
  }

  /** The instructions of the last stage, from its FROM on. */
  static List<Instruction> runtimeStage() {
    List<Instruction> all = allInstructions();
    int from = 0;
    for (int i = 0; i < all.size(); i++) {
      if (all.get(i).name().equals("FROM")) {
        from = i;
      }
    }
    return all.subList(from, all.size());
  }

  /** The arguments of the runtime stage's only {@code name} instruction. */
  static String instruction(String name) {
    List<String> found = runtimeStage().stream().filter(i -> i.name().equals(name)).map(Instruction::arguments)
        .toList();
    assertThat(found).as(DOCKERFILE + ": %s instructions in the runtime stage", name).hasSize(1);
    return found.get(0);
  }

  /** COPY in the runtime stage from the build context: destination to source. */
  private static Map<String, String> copies() {
    Map<String, String> copies = new LinkedHashMap<>();
    for (Instruction copy : runtimeStage()) {
      if (copy.name().equals("COPY") && !copy.arguments().contains("--from=")) {
        List<String> words = words(copy.arguments());
        copies.put(words.get(words.size() - 1), words.get(words.size() - 2));
      }
    }
    return copies;
  }

  private static List<String> copyFlags(String destination) {
    for (Instruction copy : runtimeStage()) {
      if (copy.name().equals("COPY") && copy.arguments().endsWith(" " + destination)) {
        return List.of(copy.arguments().split("\\s+")).stream().filter(w -> w.startsWith("--")).toList();
      }
    }
    return List.of();
  }

  /** The words of an instruction, without its --flags. */
  private static List<String> words(String arguments) {
    return List.of(arguments.split("\\s+")).stream().filter(w -> !w.startsWith("--")).toList();
  }

  private Path write(String name, String content) throws IOException {
    return Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
  }

  record Run(int exit, String stdout, String stderr) {
    /** The java command the dry run printed, one argument a line. */
    List<String> command() {
      assertThat(exit).as("exit code of %s; stderr: %s", SCRIPT, stderr).isZero();
      return stdout.lines().toList();
    }
  }

  /**
   * Runs the script with {@code sh} in dry-run mode. The cgroup root is an empty directory unless {@code env} says
   * otherwise, so the machine's own limit never leaks in; inherited JAVA_OPTS and LB_* variables are removed.
   */
  private Run entrypoint(Map<String, String> env, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("sh", DeployFiles.file(SCRIPT).toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().keySet().removeIf(k -> k.startsWith("LB_") || k.equals("JAVA_OPTS"));
    builder.environment().put("LB_ENTRYPOINT_DRY_RUN", "1");
    builder.environment().put("LB_CGROUP_ROOT", Files.createDirectories(dir.resolve("empty-cgroup")).toString());
    builder.environment().putAll(env);
    Path out = dir.resolve("stdout.txt");
    Path err = dir.resolve("stderr.txt");
    Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(SCRIPT + " did not finish in 30 s");
    }
    return new Run(process.exitValue(), Files.readString(out), Files.readString(err));
  }
}
