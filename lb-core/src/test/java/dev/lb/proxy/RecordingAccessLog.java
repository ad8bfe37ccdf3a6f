package dev.lb.proxy;

import dev.lb.log.AccessLog;
import dev.lb.log.AccessLogMessage;
import java.util.List;

/** An access log that is on and keeps every entry in a list the test owns. */
final class RecordingAccessLog implements AccessLog {
  private final List<AccessLogMessage> logged;

  RecordingAccessLog(List<AccessLogMessage> logged) {
    this.logged = logged;
  }

  @Override
  public boolean enabled() {
    return true;
  }

  @Override
  public void log(AccessLogMessage message) {
    logged.add(message);
  }
}
