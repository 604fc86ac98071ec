package com.shrivenquant.failover.promote;

import com.shrivenquant.failover.notify.IncidentNotifier;
import com.shrivenquant.failover.verify.ConsistencyReport;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/** Consistency reports and incidents, kept in the region database and read back for operators. */
public final class ConsistencyStore {
  private ConsistencyStore() {}

  public static void save(DataSource db, ConsistencyReport report) throws Exception {
    try (Connection c = db.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO consistency_report (epoch, verdict, document) VALUES (?, ?, ?::jsonb)")) {
      ps.setLong(1, report.epoch());
      ps.setString(2, report.verdict().name());
      ps.setString(3, IncidentNotifier.JSON.writeValueAsString(report));
      ps.executeUpdate();
    }
  }

  /** The newest documents of a table (consistency_report or failover_incident), newest first. */
  public static List<String> latest(DataSource db, String table, int limit) throws SQLException {
    if (!table.equals("consistency_report") && !table.equals("failover_incident")) {
      throw new IllegalArgumentException("unknown table " + table);
    }
    List<String> out = new ArrayList<>();
    try (Connection c = db.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT document::text FROM " + table + " ORDER BY id DESC LIMIT ?")) {
      ps.setInt(1, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) out.add(rs.getString(1));
      }
    }
    return out;
  }
}
