package dev.lb.metrics;

/** Backend meters that record into nothing: a backend's meters until a registry binds real ones. */
public final class NoMeters {
  /** Shared: recording into it changes nothing. */
  public static final BackendMeters INSTANCE = ProxyMetrics.disabled().none();

  private NoMeters() {}
}
