package com.shrivenquant.failover.notify;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * The region's append-only audit trail ({@code audit_log}): failover actions and every operator API
 * call. Rows are only ever inserted; the database refuses UPDATE, DELETE and TRUNCATE (migration
 * V2).
 *
 * @param actor who: a component ("region-coordinator:region-1") or an operator token's id, never
 *     the token
 * @param source where from: "system" or the caller's address
 * @param detailJson a JSON object, or null
 */
public record AuditLog(
    String actor, String action, String target, String source, String outcome, String detailJson) {

  /** Appends this entry on the caller's connection (inside its transaction, if any). */
  public void append(Connection c) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO audit_log (actor, action, target, source, outcome, detail)"
                + " VALUES (?, ?, ?, ?, ?, ?::jsonb)")) {
      ps.setString(1, actor);
      ps.setString(2, action);
      ps.setString(3, target);
      ps.setString(4, source);
      ps.setString(5, outcome);
      ps.setString(6, detailJson);
      ps.executeUpdate();
    }
  }
}
