package com.shrivenquant.replication.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.shrivenquant.replication.JournalFixtures;
import com.shrivenquant.replication.JournalWriters;
import com.shrivenquant.testkit.Eventually;
import com.shrivenquant.testkit.PostgresExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The journal tailer on a real PostgreSQL, against transactions that commit out of order. */
class JournalTailerIT {
  static final Duration GRACE = Duration.ofMillis(100);

  @RegisterExtension
  static final PostgresExtension postgres = new PostgresExtension(JournalFixtures::migrate);

  @BeforeEach
  void empty() {
    postgres.execute("TRUNCATE event_journal CASCADE");
  }

  @Test
  void anInFlightTransactionHoldsTheTailerBackAndItsRowIsNotSkipped() throws Exception {
    JournalTailer tailer = new JournalTailer(postgres.dataSource(), maxOrdering(), 100, GRACE);
    NaiveReader naive = new NaiveReader(maxOrdering());
    try (Connection slow = postgres.dataSource().getConnection()) {
      slow.setAutoCommit(false);
      long first = insert(slow, "slow", 1);
      long second;
      try (Connection fast = postgres.dataSource().getConnection()) {
        second = insert(fast, "fast", 1); // autocommit: visible before `first`
      }
      assertEquals(first + 1, second);

      assertEquals(
          List.of(second), orderings(naive.poll()), "a naive reader sees only the later row");
      assertEquals(List.of(), tailer.poll().rows(), "the tailer waits at the gap");
      Thread.sleep(GRACE.toMillis() + 50);
      assertEquals(List.of(), tailer.poll().rows(), "still in flight: still waiting");
      assertEquals(List.of(), tailer.poll().rows());

      slow.commit();
    }
    JournalTailer.Batch batch = tailer.poll();
    assertEquals(List.of(maxOrdering() - 1, maxOrdering()), orderings(batch.rows()));
    assertEquals(List.of(), batch.skipped());
    assertEquals(
        List.of(), orderings(naive.poll()), "the naive reader has lost the slow row for good");
  }

  @Test
  void aRolledBackInsertIsProvenNeverToExistAndSkipped() throws Exception {
    JournalTailer tailer = new JournalTailer(postgres.dataSource(), maxOrdering(), 100, GRACE);
    long rolledBack;
    long committed;
    try (Connection aborted = postgres.dataSource().getConnection()) {
      aborted.setAutoCommit(false);
      rolledBack = insert(aborted, "aborted", 1);
      try (Connection fast = postgres.dataSource().getConnection()) {
        committed = insert(fast, "fast", 1);
      }
      assertEquals(List.of(), tailer.poll().rows());
      Thread.sleep(GRACE.toMillis() + 50);
      assertEquals(List.of(), tailer.poll().rows(), "its transaction is still open: a suspect");
      aborted.rollback();
    }
    JournalTailer.Batch batch = tailer.poll();
    assertEquals(List.of(committed), orderings(batch.rows()));
    assertEquals(List.of(rolledBack), batch.skipped());
  }

  @Test
  void sixteenConcurrentWritersWithOutOfOrderCommitsAndRollbacksNothingSkippedNothingTwice()
      throws Exception {
    long start = maxOrdering();
    JournalTailer tailer = new JournalTailer(postgres.dataSource(), start, 500, GRACE);
    NaiveReader naive = new NaiveReader(start);
    List<JournalRow> published = new ArrayList<>();
    List<Long> skipped = new ArrayList<>();
    List<Long> naiveSeen = new ArrayList<>();
    AtomicBoolean writing = new AtomicBoolean(true);
    List<Throwable> failures = new ArrayList<>();
    JournalWriters writers = JournalWriters.start(postgres.dataSource(), 16, 8, 60, 15);
    Thread reader =
        new Thread(
            () -> {
              try {
                while (writing.get()) {
                  JournalTailer.Batch b = tailer.poll();
                  published.addAll(b.rows());
                  skipped.addAll(b.skipped());
                  naiveSeen.addAll(orderings(naive.poll()));
                  Thread.sleep(2);
                }
              } catch (Exception e) {
                synchronized (failures) {
                  failures.add(e);
                }
              }
            },
            "tailer");
    reader.start();
    List<Throwable> writeFailures = writers.join();
    writing.set(false);
    reader.join();
    assertEquals(List.of(), writeFailures);
    assertEquals(List.of(), failures);

    long end = maxOrdering();
    Eventually.await(
        "the tailer through ordering " + end,
        Duration.ofSeconds(10),
        () -> {
          JournalTailer.Batch b = tailer.poll();
          published.addAll(b.rows());
          skipped.addAll(b.skipped());
          return new TailerAt(tailer.position(), tailer.waitingFor());
        },
        at -> at.position() >= end);

    List<Long> committed = committedOrderings(start);
    assertEquals(
        end,
        tailer.position(),
        () ->
            "tailer stuck, waiting for "
                + tailer.waitingFor()
                + "; in progress now: "
                + inProgress());
    assertEquals(committed, orderings(published), "every committed row once, in ordering order");
    Set<Long> never = new HashSet<>();
    for (long o = start + 1; o <= end; o++) never.add(o);
    never.removeAll(committed);
    assertEquals(never, new HashSet<>(skipped), "skipped exactly the rolled-back sequence values");
    assertTrue(!never.isEmpty(), "the scenario did roll back some inserts");
    Set<Long> naiveMissed = new HashSet<>(committed);
    naiveSeen.forEach(naiveMissed::remove);
    System.out.printf(
        "16 writers: %d rows committed, %d sequence values rolled back and skipped; a naive"
            + " 'ordering > last' reader polling alongside missed %d committed rows%n",
        committed.size(), never.size(), naiveMissed.size());
  }

  /** Where the tailer stood; shown if it never gets through, with what is in progress then. */
  record TailerAt(long position, String waitingFor) {
    @Override
    public String toString() {
      return "position "
          + position
          + ", waiting for "
          + waitingFor
          + "; in progress now: "
          + inProgress();
    }
  }

  /** What eventsByTag-style readers do: everything above the highest ordering seen so far. */
  static final class NaiveReader {
    long last;

    NaiveReader(long last) {
      this.last = last;
    }

    List<JournalRow> poll() throws SQLException {
      List<JournalRow> rows = new ArrayList<>();
      try (Connection c = postgres.dataSource().getConnection();
          PreparedStatement ps =
              c.prepareStatement(
                  "SELECT ordering FROM event_journal WHERE ordering > ? ORDER BY ordering")) {
        ps.setLong(1, last);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            long o = rs.getLong(1);
            rows.add(
                new JournalRow(
                    o, "", 0, false, "", 0, "", 0, "", new byte[0], null, null, null, List.of()));
            last = o;
          }
        }
      }
      return rows;
    }
  }

  static long insert(Connection c, String pid, long seq) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(JournalFixtures.INSERT + " RETURNING ordering")) {
      ps.setString(1, pid);
      ps.setLong(2, seq);
      ps.setLong(3, System.currentTimeMillis());
      ps.setBytes(4, (pid + ":" + seq).getBytes());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  static long maxOrdering() throws SQLException {
    try (Connection c = postgres.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM event_journal_ordering_seq")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  static String inProgress() {
    try (Connection c = postgres.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT pg_current_snapshot()::text")) {
      rs.next();
      return rs.getString(1);
    } catch (SQLException e) {
      return e.toString();
    }
  }

  static List<Long> committedOrderings(long after) throws SQLException {
    List<Long> out = new ArrayList<>();
    try (Connection c = postgres.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT ordering FROM event_journal WHERE ordering > ? ORDER BY ordering")) {
      ps.setLong(1, after);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) out.add(rs.getLong(1));
      }
    }
    return out;
  }

  static List<Long> orderings(List<JournalRow> rows) {
    return rows.stream().map(JournalRow::ordering).toList();
  }
}
