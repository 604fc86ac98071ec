package com.shrivenquant.failover.verify;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/** Journal queries both regions answer the same way: per-entity ranges, digests and tails. */
public final class JournalDigests {
  private JournalDigests() {}

  public record Range(long count, long min, long max) {
    public boolean contiguous() {
      return count == 0 || (min == 1 && max == count);
    }
  }

  public static Map<String, Range> ranges(DataSource db) throws SQLException {
    Map<String, Range> out = new HashMap<>();
    try (Connection c = db.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT persistence_id, count(*), min(sequence_number), max(sequence_number)"
                    + " FROM event_journal GROUP BY persistence_id");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next())
        out.put(rs.getString(1), new Range(rs.getLong(2), rs.getLong(3), rs.getLong(4)));
    }
    return out;
  }

  /** The last sequence number per entity. */
  public static Map<String, Long> lastSequenceNumbers(Connection c) throws SQLException {
    Map<String, Long> out = new HashMap<>();
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT persistence_id, max(sequence_number) FROM event_journal GROUP BY persistence_id");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) out.put(rs.getString(1), rs.getLong(2));
    }
    return out;
  }

  /**
   * Per entity, an MD5 over its events' (sequence number, serializer, manifest, payload) up to the
   * given sequence number: equal digests mean byte-identical journals, hence equal state after
   * replay.
   */
  public static Map<String, String> digestsUpTo(DataSource db, Map<String, Long> upTo)
      throws SQLException {
    Map<String, String> out = new HashMap<>();
    if (upTo.isEmpty()) return out;
    try (Connection c = db.getConnection()) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT j.persistence_id, md5(string_agg(j.sequence_number || ':' || j.event_ser_id || ':'"
                  + " || j.event_ser_manifest || ':' || md5(j.event_payload), ',' ORDER BY j.sequence_number))"
                  + " FROM event_journal j JOIN unnest(?::text[], ?::bigint[]) AS p(id, upto)"
                  + " ON j.persistence_id = p.id AND j.sequence_number <= p.upto GROUP BY j.persistence_id")) {
        bindPrefix(ps, 1, upTo);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) out.put(rs.getString(1), rs.getString(2));
        }
      }
    }
    return out;
  }

  /**
   * Binds a per-entity prefix as two parameters, {@code ?::text[], ?::bigint[]}, for {@code
   * unnest(...) AS p(id, upto)}: the whole map in one statement.
   */
  public static void bindPrefix(PreparedStatement ps, int first, Map<String, Long> prefix)
      throws SQLException {
    String[] ids = prefix.keySet().toArray(String[]::new);
    Long[] seqs = new Long[ids.length];
    for (int i = 0; i < ids.length; i++) seqs[i] = prefix.get(ids[i]);
    Connection c = ps.getConnection();
    ps.setArray(first, c.createArrayOf("text", ids));
    ps.setArray(first + 1, c.createArrayOf("bigint", seqs));
  }

  /** Events beyond the prefix (an entity missing from it: all its events). */
  public static List<ConsistencyReport.LostEvent> beyond(DataSource db, Map<String, Long> prefix)
      throws SQLException {
    List<ConsistencyReport.LostEvent> out = new java.util.ArrayList<>();
    try (Connection c = db.getConnection()) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT j.persistence_id, j.sequence_number, j.write_timestamp FROM event_journal j"
                  + " LEFT JOIN unnest(?::text[], ?::bigint[]) AS p(id, upto) ON j.persistence_id = p.id"
                  + " WHERE p.upto IS NULL OR j.sequence_number > p.upto"
                  + " ORDER BY j.persistence_id, j.sequence_number")) {
        bindPrefix(ps, 1, prefix);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new ConsistencyReport.LostEvent(rs.getString(1), rs.getLong(2), rs.getLong(3)));
          }
        }
      }
    }
    return out;
  }
}
