package com.shrivenquant.failover;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/** Journal rows written directly, as akka-persistence-jdbc writes them, for failover's tests. */
public final class TestJournals {
  private TestJournals() {}

  /** An event's payload: distinct per region, entity and sequence number, not valid UTF-8. */
  public static byte[] payload(String region, String pid, long seq) {
    byte[] text = (region + "/" + pid + "/" + seq).getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[text.length + 3];
    System.arraycopy(text, 0, out, 0, text.length);
    out[text.length] = (byte) 0x00;
    out[text.length + 1] = (byte) 0xff;
    out[text.length + 2] = (byte) seq;
    return out;
  }

  /** Events {@code from..to} of one entity, one transaction; write timestamp = 1_000_000 * seq. */
  public static void events(DataSource db, String region, String pid, long from, long to)
      throws SQLException {
    try (Connection c = db.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO event_journal (persistence_id, sequence_number, writer, write_timestamp,"
                    + " adapter_manifest, event_ser_id, event_ser_manifest, event_payload)"
                    + " VALUES (?, ?, ?, ?, '', 4711, 'OrderEvent', ?)")) {
      c.setAutoCommit(false);
      for (long seq = from; seq <= to; seq++) {
        ps.setString(1, pid);
        ps.setLong(2, seq);
        ps.setString(3, "writer-" + region);
        ps.setLong(4, writeTimestamp(pid, seq));
        ps.setBytes(5, payload(region, pid, seq));
        ps.addBatch();
      }
      ps.executeBatch();
      c.commit();
    }
  }

  public static long writeTimestamp(String pid, long seq) {
    return 1_000_000L * seq + pid.charAt(0);
  }

  public static void snapshot(DataSource db, String pid, long seq) throws SQLException {
    try (Connection c = db.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO snapshot (persistence_id, sequence_number, created, snapshot_ser_id,"
                    + " snapshot_ser_manifest, snapshot_payload) VALUES (?, ?, ?, 4712, 'Snapshot', ?)")) {
      ps.setString(1, pid);
      ps.setLong(2, seq);
      ps.setLong(3, System.currentTimeMillis());
      ps.setBytes(4, ("snapshot " + pid + "@" + seq).getBytes(StandardCharsets.UTF_8));
      ps.executeUpdate();
    }
  }

  /** "pid:seq" of every event, ordered by entity and sequence number. */
  public static List<String> eventIds(DataSource db) throws SQLException {
    return strings(
        db,
        "SELECT persistence_id || ':' || sequence_number FROM event_journal"
            + " ORDER BY persistence_id, sequence_number");
  }

  public static List<String> strings(DataSource db, String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = db.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) out.add(rs.getString(1));
    }
    return out;
  }

  public static long count(DataSource db, String sql) throws SQLException {
    try (Connection c = db.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  public static void execute(DataSource db, String sql) throws SQLException {
    try (Connection c = db.getConnection();
        Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  /** "A:1..3, B:1..2" as a list of "pid:seq". */
  public static List<String> ids(String pid, long from, long to) {
    List<String> out = new ArrayList<>();
    for (long seq = from; seq <= to; seq++) out.add(pid + ":" + seq);
    return out;
  }

  @SafeVarargs
  public static List<String> concat(List<String>... parts) {
    List<String> out = new ArrayList<>();
    for (List<String> p : parts) out.addAll(p);
    return out;
  }
}
