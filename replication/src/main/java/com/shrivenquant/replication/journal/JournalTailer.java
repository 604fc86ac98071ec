package com.shrivenquant.replication.journal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * Reads a region's journal in {@code ordering} order without ever skipping a committed row.
 *
 * <p>Why this is not a plain "ordering > last" query: {@code ordering} is a sequence value taken
 * when a row is inserted, but transactions commit in their own order. A reader can see ordering 11
 * committed while 10 is still in flight; moving past 10 then loses it forever (the trap behind
 * akka-persistence-jdbc 5.1.0's eventsByTag skipping events). A missing value is either in flight
 * (it will appear) or belonged to a transaction that rolled back (it never will).
 *
 * <p>How gaps are handled: rows are released strictly in ordering order; at the first missing value
 * the tailer stops and decides between the two cases with PostgreSQL's transaction snapshots, each
 * poll reading rows and {@code pg_current_snapshot()} in one REPEATABLE READ transaction. Once the
 * gap has been missing for {@code gapGrace}, the tailer records the transactions in progress at
 * that moment: the transaction that took the missing value is among them if it has not ended (by
 * then it has long had a transaction id: it takes one while writing the very row the value is for).
 * When a later snapshot shows all of them ended and the value is still missing, it can never
 * appear: it is recorded as skipped and the tailer moves on. Head-of-line blocking therefore lasts
 * as long as the in-flight transaction, plus the grace for a rolled-back one.
 */
public final class JournalTailer {

  /**
   * Rows to publish (in ordering order) and orderings proven never to exist, up to lastOrdering.
   */
  public record Batch(List<JournalRow> rows, List<Long> skipped, long lastOrdering) {}

  private record Snapshot(long[] inProgress) {
    static Snapshot parse(String text) { // "xmin:xmax:xip1,xip2,..."
      String[] parts = text.split(":", -1);
      long[] xip =
          parts[2].isEmpty()
              ? new long[0]
              : Arrays.stream(parts[2].split(",")).mapToLong(Long::parseLong).sorted().toArray();
      return new Snapshot(xip);
    }

    boolean allEnded(long[] xids) {
      for (long xid : xids) {
        if (Arrays.binarySearch(inProgress, xid) >= 0) return false;
      }
      return true;
    }
  }

  /**
   * The first missing ordering after the position, the highest ordering visible when it was first
   * seen (every value up to it had been handed out by then), and the transactions it waits for.
   */
  private record Gap(long ordering, long horizon, long firstSeenNanos, long[] suspects) {}

  private static final String ROWS =
      "SELECT ordering, persistence_id, sequence_number, deleted, writer, write_timestamp,"
          + " adapter_manifest, event_ser_id, event_ser_manifest, event_payload, meta_ser_id,"
          + " meta_ser_manifest, meta_payload FROM event_journal WHERE ordering > ?"
          + " ORDER BY ordering LIMIT ?";
  private static final String TAGS =
      "SELECT event_id, tag FROM event_tag WHERE event_id = ANY (?) ORDER BY tag";

  private final DataSource dataSource;
  private final int maxRows;
  private final long gapGraceNanos;
  private long position;
  private Gap gap;
  // Every value up to here that is still missing is proven never to exist.
  private long finalUpTo;

  /**
   * @param startAfter every ordering up to and including this one is already handled
   * @param gapGrace how long a missing ordering waits before its suspects are recorded
   */
  public JournalTailer(DataSource dataSource, long startAfter, int maxRows, Duration gapGrace) {
    this.dataSource = dataSource;
    this.position = startAfter;
    this.finalUpTo = startAfter;
    this.maxRows = maxRows;
    this.gapGraceNanos = gapGrace.toNanos();
  }

  public long position() {
    return position;
  }

  /** Whether the last poll stopped at a missing ordering that may still fill. */
  public boolean blockedByGap() {
    return gap != null;
  }

  /** What the tailer waits for, if anything: for status pages and logs. */
  public String waitingFor() {
    Gap g = gap;
    if (g == null) return "nothing";
    return "ordering "
        + g.ordering()
        + (g.suspects() == null
            ? " (within grace)"
            : " until transactions " + Arrays.toString(g.suspects()) + " end");
  }

  /** The next rows after the position, stopping before a gap that may still fill. */
  public Batch poll() throws SQLException {
    Snapshot snapshot;
    List<JournalRow> rows;
    long visibleHead;
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      try {
        // The first statement fixes the transaction's snapshot: the rows below are exactly what
        // this snapshot sees.
        try (Statement s = c.createStatement();
            ResultSet rs = s.executeQuery("SELECT pg_current_snapshot()::text")) {
          rs.next();
          snapshot = Snapshot.parse(rs.getString(1));
        }
        rows = readRows(c);
        try (Statement s = c.createStatement();
            ResultSet rs = s.executeQuery("SELECT coalesce(max(ordering), 0) FROM event_journal")) {
          rs.next();
          visibleHead = rs.getLong(1);
        }
      } finally {
        c.rollback();
      }
    }
    List<JournalRow> out = new ArrayList<>(rows.size());
    List<Long> skipped = new ArrayList<>();
    // Every value up to the head visible in this snapshot was handed out before it: one proof
    // settles every gap up to there, not only those in this batch.
    long horizon =
        Math.max(visibleHead, rows.isEmpty() ? position : rows.get(rows.size() - 1).ordering());
    long expected = position + 1;
    for (JournalRow row : rows) {
      if (row.ordering() != expected) {
        if (row.ordering() - 1 > finalUpTo && !gapIsFinal(expected, horizon, snapshot)) break;
        for (long missing = expected; missing < row.ordering(); missing++) skipped.add(missing);
      }
      out.add(row);
      expected = row.ordering() + 1;
    }
    position = expected - 1;
    if (gap != null && gap.ordering() <= position) gap = null;
    return new Batch(out, skipped, position);
  }

  private boolean gapIsFinal(long missing, long horizon, Snapshot snapshot) {
    long now = System.nanoTime();
    if (gap == null || gap.ordering() != missing) {
      gap = new Gap(missing, horizon, now, null);
      return false;
    }
    if (now - gap.firstSeenNanos() < gapGraceNanos) return false;
    boolean ended;
    if (gap.suspects() == null) {
      gap = new Gap(missing, gap.horizon(), gap.firstSeenNanos(), snapshot.inProgress().clone());
      ended = snapshot.inProgress().length == 0;
    } else {
      ended = snapshot.allEnded(gap.suspects());
    }
    if (ended) finalUpTo = Math.max(finalUpTo, gap.horizon());
    return ended;
  }

  private List<JournalRow> readRows(Connection c) throws SQLException {
    List<Object[]> raw = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(ROWS)) {
      ps.setLong(1, position);
      ps.setInt(2, maxRows);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          int metaSerId = rs.getInt(11);
          raw.add(
              new Object[] {
                rs.getLong(1),
                rs.getString(2),
                rs.getLong(3),
                rs.getBoolean(4),
                rs.getString(5),
                rs.getLong(6),
                rs.getString(7),
                rs.getInt(8),
                rs.getString(9),
                rs.getBytes(10),
                rs.wasNull() ? null : metaSerId,
                rs.getString(12),
                rs.getBytes(13)
              });
        }
      }
    }
    Map<Long, List<String>> tags = new HashMap<>();
    if (!raw.isEmpty()) {
      Long[] ids = raw.stream().map(r -> (Long) r[0]).toArray(Long[]::new);
      try (PreparedStatement ps = c.prepareStatement(TAGS)) {
        ps.setArray(1, c.createArrayOf("bigint", ids));
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next())
            tags.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(rs.getString(2));
        }
      }
    }
    List<JournalRow> rows = new ArrayList<>(raw.size());
    for (Object[] r : raw) {
      long ordering = (Long) r[0];
      rows.add(
          new JournalRow(
              ordering,
              (String) r[1],
              (Long) r[2],
              (Boolean) r[3],
              (String) r[4],
              (Long) r[5],
              (String) r[6],
              (Integer) r[7],
              (String) r[8],
              (byte[]) r[9],
              (Integer) r[10],
              (String) r[11],
              (byte[]) r[12],
              tags.getOrDefault(ordering, List.of())));
    }
    return rows;
  }
}
