package dev.lb.backend;

/**
 * Where a backend's traffic and health events are counted. The backend owns this interface so that it needs no
 * metrics library; {@code dev.lb.metrics} implements it with Micrometer and binds one to each backend. Recording is on
 * the hot path: implementations reach their meters through fields, never by name.
 */
public interface BackendMeters {

  /** Meters that record into nothing: a backend's until a registry binds real ones. */
  BackendMeters NONE = new BackendMeters() {
    @Override
    public void request(int status, long nanos) {}

    @Override
    public void retried() {}

    @Override
    public void healthCheck(boolean passed) {}

    @Override
    public void ejected() {}
  };

  /** A request answered with {@code status} after {@code nanos}. */
  void request(int status, long nanos);

  /** An attempt on this backend failed and the request was retried elsewhere. */
  void retried();

  /** An active probe finished. */
  void healthCheck(boolean passed);

  /** Outlier detection ejected the backend. */
  void ejected();
}
