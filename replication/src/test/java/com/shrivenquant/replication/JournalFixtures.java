package com.shrivenquant.replication;

import com.shrivenquant.engine.persistence.JournalSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import javax.sql.DataSource;

/** Journal rows written and read the way the replication tests need them. */
public final class JournalFixtures {
  /** A journal row as akka-persistence-jdbc writes one (the fields replication copies). */
  public static final String INSERT =
      "INSERT INTO event_journal (persistence_id, sequence_number, writer, write_timestamp,"
          + " adapter_manifest, event_ser_id, event_ser_manifest, event_payload)"
          + " VALUES (?, ?, 'test', ?, '', 1, 'm', ?)";

  private JournalFixtures() {}

  /** A region's database: the journal and replication's own tables. */
  public static void migrate(DataSource ds) {
    JournalSchema.migrate(ds);
    ReplicationSchema.migrate(ds);
  }

  /** Adds one row to a batch of {@link #INSERT}. */
  public static void addRow(PreparedStatement insert, String pid, long seq, byte[] payload)
      throws SQLException {
    insert.setString(1, pid);
    insert.setLong(2, seq);
    insert.setLong(3, System.currentTimeMillis());
    insert.setBytes(4, payload);
    insert.addBatch();
  }

  /** Every event's payload by "persistenceId#sequenceNumber". */
  public static Map<String, byte[]> payloads(DataSource ds) throws SQLException {
    Map<String, byte[]> out = new HashMap<>();
    try (Connection c = ds.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT persistence_id, sequence_number, event_payload FROM event_journal");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        if (out.put(rs.getString(1) + "#" + rs.getLong(2), rs.getBytes(3)) != null)
          throw new AssertionError("duplicate event " + rs.getString(1) + "#" + rs.getLong(2));
      }
    }
    return out;
  }
}
