package com.shrivenquant.replication.publish;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import javax.sql.DataSource;

/** The publisher's position in its own region's database: survives restarts. */
public final class PublisherPosition {
  private final DataSource dataSource;
  private final String publisherId;

  public PublisherPosition(DataSource dataSource, String publisherId) {
    this.dataSource = dataSource;
    this.publisherId = publisherId;
  }

  /** Every ordering up to and including this one was published (0 when starting fresh). */
  public long load() throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT last_ordering FROM replication_publisher_position WHERE publisher_id = ?")) {
      ps.setString(1, publisherId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getLong(1) : 0L;
      }
    }
  }

  /**
   * The journal's head and how far the publisher got: everything up to publishedUpTo is in Kafka.
   */
  public record Progress(long journalHead, long publishedUpTo) {}

  /** Both read in one statement, so the pair is consistent. */
  public Progress progress() throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT (SELECT coalesce(max(ordering), 0) FROM event_journal),"
                    + " (SELECT coalesce(max(last_ordering), 0) FROM replication_publisher_position"
                    + " WHERE publisher_id = ?)")) {
      ps.setString(1, publisherId);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return new Progress(rs.getLong(1), rs.getLong(2));
      }
    }
  }

  /** The highest ordering committed in the journal (0 when empty), on the caller's connection. */
  public static long journalHead(Connection c) throws SQLException {
    try (PreparedStatement ps =
            c.prepareStatement("SELECT coalesce(max(ordering), 0) FROM event_journal");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Called only after the broker acknowledged every record up to lastOrdering. */
  public void save(long lastOrdering, List<Long> skipped) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO replication_publisher_position (publisher_id, last_ordering, updated_at)"
                  + " VALUES (?, ?, now()) ON CONFLICT (publisher_id) DO UPDATE"
                  + " SET last_ordering = excluded.last_ordering, updated_at = now()")) {
        ps.setString(1, publisherId);
        ps.setLong(2, lastOrdering);
        ps.executeUpdate();
      }
      if (!skipped.isEmpty()) {
        try (PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO replication_skipped_ordering (publisher_id, ordering) VALUES (?, ?)"
                    + " ON CONFLICT DO NOTHING")) {
          for (long o : skipped) {
            ps.setString(1, publisherId);
            ps.setLong(2, o);
            ps.addBatch();
          }
          ps.executeBatch();
        }
      }
      c.commit();
    }
  }
}
