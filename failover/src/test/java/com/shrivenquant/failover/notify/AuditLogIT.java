package com.shrivenquant.failover.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.shrivenquant.failover.TestJournals;
import com.shrivenquant.failover.region.RegionStateStore;
import com.shrivenquant.testkit.PostgresExtension;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * audit_log on a real PostgreSQL: rows go in, and nobody (not even the table's owner) changes or
 * removes one.
 */
class AuditLogIT {
  @RegisterExtension
  static final PostgresExtension postgres =
      new PostgresExtension("region", RegionStateStore::migrate);

  @Test
  void rowsAreAppendedAndTheDatabaseRefusesUpdateDeleteAndTruncate() throws Exception {
    try (Connection c = postgres.dataSource().getConnection()) {
      new AuditLog(
              "viewer-1",
              "GET /failover/status",
              "/failover/status",
              "127.0.0.1",
              "allowed 200",
              "{\"role\":\"viewer\"}")
          .append(c);
      new AuditLog("anonymous", "POST /ops/fence", "/ops/fence", "10.0.0.7", "denied 401", null)
          .append(c);
    }
    List<String> before = rows();
    assertEquals(
        List.of(
            "viewer-1|GET /failover/status|127.0.0.1|allowed 200|viewer",
            "anonymous|POST /ops/fence|10.0.0.7|denied 401|"),
        before);

    for (String change :
        List.of(
            "UPDATE audit_log SET outcome = 'allowed 200' WHERE actor = 'anonymous'",
            "DELETE FROM audit_log WHERE actor = 'anonymous'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log")) {
      SQLException refused =
          assertThrows(
              SQLException.class,
              () -> TestJournals.execute(postgres.dataSource(), change),
              change);
      assertTrue(
          refused.getMessage().contains("audit_log is append-only"),
          change + ": " + refused.getMessage());
    }
    assertEquals(before, rows(), "nothing changed");

    // The same statements work on a table without the trigger: the refusal above is the trigger's.
    TestJournals.execute(
        postgres.dataSource(),
        "INSERT INTO failover_incident (epoch, kind, document) VALUES (1, 'x', '{}')");
    TestJournals.execute(postgres.dataSource(), "UPDATE failover_incident SET kind = 'y'");
    TestJournals.execute(postgres.dataSource(), "TRUNCATE failover_incident");
  }

  private static List<String> rows() throws SQLException {
    return TestJournals.strings(
        postgres.dataSource(),
        "SELECT actor || '|' || action || '|' || source || '|'"
            + " || outcome || '|' || coalesce(detail->>'role', '') FROM audit_log ORDER BY id");
  }
}
