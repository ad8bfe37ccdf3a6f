package dev.lb.it.support;

import java.util.ArrayList;
import java.util.List;

/**
 * The test backends one test starts, closed together: a field {@code @AutoClose final TestBackends backends = new
 * TestBackends();} and {@code backends.start("b1")} in place of a list, a helper and an {@code @AfterEach} per class.
 */
public final class TestBackends implements AutoCloseable {
  private final List<TestBackend> started = new ArrayList<>();

  /** Starts a backend that answers with {@code name}, closed with the others. */
  public TestBackend start(String name) {
    TestBackend b = TestBackend.start(name);
    started.add(b);
    return b;
  }

  @Override
  public void close() {
    started.forEach(TestBackend::close);
    started.clear();
  }
}
