package dev.lb.server.limits;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.EOFException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.junit.jupiter.api.Test;

class StoreErrorsTest {
  @Test
  void aNetworkFailureIsNamedWithoutTheDriversParagraph() {
    SQLException driver = new SQLException("Connection to db:5432 refused. Check that the hostname and port are correct"
        + " and that the postmaster is accepting TCP/IP connections.", "08001", new ConnectException("Connection refused"));
    assertThat(StoreErrors.cause(new SQLTransientConnectionException("lb-store - Connection is not available", driver)))
        .isEqualTo("connection refused");
    assertThat(StoreErrors.cause(new SQLException("x", new UnknownHostException("db")))).isEqualTo("unknown host db");
    assertThat(StoreErrors.cause(new SQLException("An I/O error occurred while sending to the backend.", "08006",
        new EOFException()))).isEqualTo("connection closed by the database");
  }

  @Test
  void otherwiseTheDatabasesMessageOnOneLine() {
    SQLException database = new SQLException("ERROR: relation \"lb_meta\" does not exist\n  Position: 21");
    assertThat(StoreErrors.cause(new SQLTransientConnectionException("lb-store - Connection is not available", database)))
        .isEqualTo("ERROR: relation \"lb_meta\" does not exist Position: 21");
    assertThat(StoreErrors.cause(new SQLTransientConnectionException("lb-store - request timed out after 2000ms")))
        .isEqualTo("lb-store - request timed out after 2000ms");
    assertThat(StoreErrors.cause(new SQLException("x".repeat(400)))).hasSize(300).endsWith("...");
    assertThat(StoreErrors.cause(new SQLException("bad ?password=hunter2"))).isEqualTo("bad ?password=***");
    assertThat(StoreErrors.cause(new IllegalStateException())).isEqualTo("IllegalStateException");
  }
}
