package dev.lb.arch;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Guards the package layering of {@code src/main/java} by reading its sources: the graph of {@code dev.lb} packages
 * (an edge for every import, static import or fully qualified name in code) has no cycle, and the plain-Java
 * packages name nothing of Netty. Test code is not read: tests may reach across packages.
 */
class PackageLayeringTest {
  private static final Path SOURCES = Paths.get("src/main/java");
  private static final Pattern PACKAGE = Pattern.compile("(?m)^package\\s+([\\w.]+)\\s*;");
  /** A reference to another package: an import (wildcards too), or a qualified name such as {@code dev.lb.pool.X}. */
  private static final Pattern LB_REFERENCE = Pattern.compile("\\b(dev\\.lb(?:\\.[a-z]\\w*)+)\\.(?:[A-Z]|\\*)");
  private static final Pattern NETTY_REFERENCE = Pattern.compile("\\bio\\.netty\\.");

  /**
   * Packages whose code stays plain Java (DESIGN.md, habit 7): the limiter, the balancers, the route table, and the
   * health policy, both its per-backend state ({@code backend.BackendHealth}, {@code backend.HealthPolicy}) and the
   * monitor across backends.
   */
  private static final List<String> NETTY_FREE =
      List.of("dev.lb.backend", "dev.lb.balance", "dev.lb.health", "dev.lb.ratelimit", "dev.lb.route",
          "dev.lb.stats");

  private static final Map<String, Set<String>> imports = new TreeMap<>();
  private static final Map<String, String> code = new TreeMap<>();

  @BeforeAll
  static void read() throws IOException {
    assertThat(SOURCES).isDirectory();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(SOURCES)) {
      files = walk.filter(p -> p.toString().endsWith(".java")).sorted().toList();
    }
    for (Path file : files) {
      String text = withoutComments(Files.readString(file, StandardCharsets.UTF_8));
      Matcher pkg = PACKAGE.matcher(text);
      assertThat(pkg.find()).as("package line of %s", file).isTrue();
      String from = pkg.group(1);
      Set<String> to = imports.computeIfAbsent(from, k -> new TreeSet<>());
      Matcher ref = LB_REFERENCE.matcher(text.substring(pkg.end()));
      while (ref.find()) {
        if (!ref.group(1).equals(from)) {
          to.add(ref.group(1));
        }
      }
      code.put(SOURCES.relativize(file).toString().replace('\\', '/'), text);
    }
  }

  @Test
  void packagesFormNoCycle() {
    List<String> cycle = findCycle(imports);
    assertThat(cycle).as("a package cycle in %s; the graph: %s", SOURCES, imports).isEmpty();
  }

  @Test
  void theGraphIsReadFromTheSources() {
    // A scanner that read nothing would find no cycle: check it sees known edges.
    assertThat(imports.get("dev.lb.proxy")).contains("dev.lb.pool", "dev.lb.balance", "dev.lb.ratelimit");
    assertThat(imports.get("dev.lb.health")).contains("dev.lb.backend");
    assertThat(code).containsKey("dev/lb/backend/BackendHealth.java");
  }

  @Test
  void plainJavaPackagesNameNoNetty() {
    List<String> offenders = new ArrayList<>();
    code.forEach((file, text) -> {
      String pkg = file.substring(0, file.lastIndexOf('/')).replace('/', '.');
      if (NETTY_FREE.contains(pkg) && NETTY_REFERENCE.matcher(text).find()) {
        offenders.add(file);
      }
    });
    assertThat(offenders).as("plain-Java code that names io.netty").isEmpty();
  }

  @Test
  void theCycleFinderFindsCycles() {
    Map<String, Set<String>> graph = Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"), "d", Set.of("a"));
    assertThat(findCycle(graph)).containsExactly("a", "b", "c", "a");
    assertThat(findCycle(Map.of("a", Set.of("b"), "b", Set.of()))).isEmpty();
  }

  /** One cycle of the graph as the packages along it (first repeated at the end), or empty when there is none. */
  static List<String> findCycle(Map<String, Set<String>> graph) {
    Map<String, Integer> state = new TreeMap<>(); // absent: unseen, 1: on the path, 2: done
    List<String> path = new ArrayList<>();
    for (String start : new TreeSet<>(graph.keySet())) {
      List<String> cycle = visit(start, graph, state, path);
      if (!cycle.isEmpty()) {
        return cycle;
      }
    }
    return List.of();
  }

  private static List<String> visit(
      String node, Map<String, Set<String>> graph, Map<String, Integer> state, List<String> path) {
    Integer s = state.get(node);
    if (s != null && s == 2) {
      return List.of();
    }
    if (s != null) {
      List<String> cycle = new ArrayList<>(path.subList(path.indexOf(node), path.size()));
      cycle.add(node);
      return cycle;
    }
    state.put(node, 1);
    path.add(node);
    for (String next : new TreeSet<>(graph.getOrDefault(node, Set.of()))) {
      List<String> cycle = visit(next, graph, state, path);
      if (!cycle.isEmpty()) {
        return cycle;
      }
    }
    path.remove(path.size() - 1);
    state.put(node, 2);
    return List.of();
  }

  /** The source without comments, so that a Javadoc link to a higher package is not an edge. */
  private static String withoutComments(String source) {
    return source.replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("(?m)//.*$", "");
  }
}
