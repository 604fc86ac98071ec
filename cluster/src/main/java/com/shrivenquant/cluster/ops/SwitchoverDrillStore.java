package com.shrivenquant.cluster.ops;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.Optional;
import javax.sql.DataSource;

/** Drills started through the operator API ({@code operator_drill} in the region database). */
final class SwitchoverDrillStore {
  /** Another drill of the region is running (the partial unique index refused this one). */
  static final class AlreadyRunning extends Exception {
    AlreadyRunning(String message) {
      super(message);
    }
  }

  /**
   * A drill longer than this without an end was left by a node that stopped: it is closed as
   * failed.
   */
  private static final String ABANDONED_AFTER = "10 minutes";

  private final DataSource db;

  SwitchoverDrillStore(DataSource db) {
    this.db = db;
  }

  long start(String region, String requestedBy) throws SQLException, AlreadyRunning {
    try (Connection c = db.getConnection()) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "UPDATE operator_drill SET status = 'FAILED', finished_at = clock_timestamp(),"
                  + " report = '{\"error\":\"abandoned: the node running it stopped\"}'::jsonb"
                  + " WHERE region = ? AND status = 'RUNNING' AND started_at < clock_timestamp() - interval '"
                  + ABANDONED_AFTER
                  + "'")) {
        ps.setString(1, region);
        ps.executeUpdate();
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO operator_drill (kind, region, requested_by, status) VALUES ('switchover', ?, ?, 'RUNNING')"
                  + " ON CONFLICT DO NOTHING RETURNING id")) {
        ps.setString(1, region);
        ps.setString(2, requestedBy);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) return rs.getLong(1);
        }
      }
      throw new AlreadyRunning("a drill of " + region + " is running: " + running(c, region));
    }
  }

  private static String running(Connection c, String region) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT id FROM operator_drill WHERE region = ? AND status = 'RUNNING'")) {
      ps.setString(1, region);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? "drill " + rs.getLong(1) : "it just ended, try again";
      }
    }
  }

  void finish(long id, boolean succeeded, String reportJson) throws SQLException {
    try (Connection c = db.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE operator_drill SET status = ?, finished_at = clock_timestamp(), report = ?::jsonb"
                    + " WHERE id = ? AND status = 'RUNNING'")) {
      ps.setString(1, succeeded ? "SUCCEEDED" : "FAILED");
      ps.setString(2, reportJson);
      ps.setLong(3, id);
      ps.executeUpdate();
    }
  }

  Optional<ObjectNode> get(long id) throws SQLException {
    ArrayNode found = select("WHERE id = ?", id, 1);
    return found.isEmpty() ? Optional.empty() : Optional.of((ObjectNode) found.get(0));
  }

  ArrayNode recent(int limit) throws SQLException {
    return select("WHERE id > ?", 0, limit);
  }

  /** The report of a finished drill; empty while it runs or if there is no such drill. */
  Optional<String> report(long id) throws SQLException {
    try (Connection c = db.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT report::text FROM operator_drill WHERE id = ?")) {
      ps.setLong(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
      }
    }
  }

  private ArrayNode select(String where, long arg, int limit) throws SQLException {
    ArrayNode out = OperatorJson.JSON.createArrayNode();
    try (Connection c = db.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT id, kind, region, requested_by, status, started_at, finished_at FROM operator_drill "
                    + where
                    + " ORDER BY id DESC LIMIT ?")) {
      ps.setLong(1, arg);
      ps.setInt(2, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ObjectNode d = out.addObject();
          d.put("id", rs.getLong(1));
          d.put("kind", rs.getString(2));
          d.put("region", rs.getString(3));
          d.put("requestedBy", rs.getString(4));
          d.put("status", rs.getString(5));
          d.put("startedAt", rs.getObject(6, OffsetDateTime.class).toString());
          OffsetDateTime finished = rs.getObject(7, OffsetDateTime.class);
          d.put("finishedAt", finished == null ? null : finished.toString());
          d.put("reportUrl", "/ops/drills/" + rs.getLong(1) + "/report");
        }
      }
    }
    return out;
  }
}
